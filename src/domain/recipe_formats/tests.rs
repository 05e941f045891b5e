//! The mapping's unit tests: units, placeholders, notes, and export -> import -> export giving the same document.

use super::*;
use crate::domain::validate;

fn buzz() -> BeerFields {
    serde_json::from_value(serde_json::json!({
        "name": "Buzz", "tagline": "A Real Bitter Experience.", "first_brewed": "09/2007",
        "description": "A light, crisp and bitter IPA.", "image_url": "https://images.punkapi.com/v2/keg.png",
        "abv": 4.5, "ibu": 60, "target_fg": 1010, "target_og": 1041.7, "ebc": 20, "srm": 10, "ph": 4.4,
        "attenuation_level": 75, "volume": {"value": 20, "unit": "litres"},
        "boil_volume": {"value": 25, "unit": "litres"},
        "method": {"mash_temp": [{"temp": {"value": 64, "unit": "celsius"}, "duration": 75},
                                 {"temp": {"value": 72, "unit": "celsius"}, "duration": null}],
                   "fermentation": {"temp": {"value": 19, "unit": "celsius"}}, "twist": "Lemon zest"},
        "ingredients": {
            "malt": [{"name": "Maris Otter Extra Pale", "amount": {"value": 3.3, "unit": "kilograms"}}],
            "hops": [{"name": "Fuggles", "amount": {"value": 25, "unit": "grams"}, "add": "start", "attribute": "bitter"},
                     {"name": "Cascade", "amount": {"value": 37.5, "unit": "grams"}, "add": "end", "attribute": "flavour"},
                     {"name": "Citra", "amount": {"value": 1, "unit": "total"}, "add": "Dry Hop", "attribute": "Aroma"}],
            "yeast": "Wyeast 1056 - American Ale\u{2122}"},
        "food_pairing": ["Spicy chicken tikka masala", "Caramel toffee cake"],
        "brewers_tips": "Drop a little Cascade in at the end.", "contributed_by": "Sam Mason <samjbmason>",
        "style": "IPA"
    }))
    .unwrap()
}

#[test]
fn beerjson_has_the_formats_units() {
    let doc: serde_json::Value = serde_json::from_str(&export(RecipeFormat::BeerJson, [&buzz()])).unwrap();
    let recipe = &doc["beerjson"]["recipes"][0];
    assert_eq!(recipe["batch_size"], serde_json::json!({"unit": "l", "value": 20.0}));
    assert_eq!(
        recipe["original_gravity"],
        serde_json::json!({"unit": "sg", "value": 1.0417})
    );
    assert_eq!(recipe["final_gravity"]["value"], 1.01);
    assert_eq!(recipe["ibu_estimate"]["value"]["value"], 60.0);
    let hop = &recipe["ingredients"]["hop_additions"][0];
    assert_eq!(hop["amount"], serde_json::json!({"unit": "g", "value": 25.0}));
    assert_eq!(hop["timing"]["use"], "add_to_boil");
    assert_eq!(
        hop["timing"]["duration"],
        serde_json::json!({"unit": "min", "value": 60})
    );
    assert_eq!(
        recipe["ingredients"]["hop_additions"][2]["timing"]["use"],
        "add_to_fermentation"
    );
    assert_eq!(
        recipe["mash"]["mash_steps"][0]["step_temperature"],
        serde_json::json!({"unit": "C", "value": 64.0})
    );
    assert!(
        recipe["notes"]
            .as_str()
            .unwrap()
            .contains("Food pairing: Spicy chicken tikka masala")
    );
}

#[test]
fn beerxml_has_the_formats_units() {
    let xml = export(RecipeFormat::BeerXml, [&buzz()]);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<RECIPES>"),
        "{xml}"
    );
    for expected in [
        "<BATCH_SIZE>20</BATCH_SIZE>",
        "<OG>1.0417</OG>",
        "<FG>1.01</FG>",
        "<AMOUNT>0.025</AMOUNT>",
        "<USE>Dry Hop</USE>",
        "<TYPE>Bittering</TYPE>",
        "<PRIMARY_TEMP>19</PRIMARY_TEMP>",
        "<EST_COLOR>10</EST_COLOR>",
        "<ABV>4.5</ABV>",
    ] {
        assert!(xml.contains(expected), "{expected} missing from {xml}");
    }
}

#[test]
fn a_round_trip_gives_the_same_document_and_beer() {
    for format in [RecipeFormat::BeerXml, RecipeFormat::BeerJson] {
        let first = export(format, [&buzz()]);
        let beers = import(format, &first).unwrap();
        assert_eq!(beers.len(), 1);
        assert_eq!(export(format, &beers), first, "{format:?}");
        validate(&beers[0]).unwrap();
        let mut expected = serde_json::to_value(buzz()).unwrap();
        let mut got = serde_json::to_value(&beers[0]).unwrap();
        // Numbers come back as numbers of the same value (4.5, 1041.7), whole ones without ".0".
        for value in [&mut expected, &mut got] {
            *value = serde_json::from_str(&value.to_string().replace(".0,", ",").replace(".0}", "}")).unwrap();
        }
        assert_eq!(got, expected, "{format:?}");
    }
}

#[test]
fn foreign_recipes_map_their_units_and_keep_notes_as_description() {
    let json = r#"{"beerjson": {"version": 1.0, "recipes": [{"name": "Pale", "type": "all grain",
        "author": "Ann", "batch_size": {"unit": "gal", "value": 5}, "efficiency": {"brewhouse": {"unit": "%", "value": 72}},
        "ingredients": {"fermentable_additions": [{"name": "Pale malt", "type": "grain", "yield": {}, "color": {"unit": "Lovi", "value": 2},
            "amount": {"unit": "lb", "value": 10}}],
          "hop_additions": [{"name": "Cascade", "alpha_acid": {"unit": "%", "value": 6}, "amount": {"unit": "oz", "value": 1},
            "timing": {"use": "add_to_boil", "duration": {"unit": "min", "value": 60}}}]},
        "original_gravity": {"unit": "plato", "value": 12}, "alcohol_by_volume": {"unit": "%", "value": 5},
        "notes": "Brew on a cold day."}]}}"#;
    let beers = import(RecipeFormat::BeerJson, json).unwrap();
    let beer = &beers[0];
    assert_eq!(beer.description, "Brew on a cold day.");
    assert_eq!(beer.contributed_by, "Ann");
    assert_eq!(
        beer.volume.as_ref().unwrap().value.as_ref().unwrap().as_f64(),
        Some(18.92705892)
    );
    assert_eq!(
        beer.ingredients.malt[0].amount.value.as_ref().unwrap().as_f64(),
        Some(4.5359237)
    );
    assert_eq!(beer.ingredients.hops[0].add, "start");
    let og = beer.target_og.as_ref().unwrap().as_f64().unwrap();
    assert!((og - 1048.38).abs() < 0.01, "{og}");
    validate(beer).unwrap();
}

#[test]
fn a_recipe_without_abv_gets_it_from_its_gravities() {
    let xml = "<RECIPES><RECIPE><NAME>X</NAME><OG>1.050</OG><FG>1.010</FG></RECIPE></RECIPES>";
    let beers = import(RecipeFormat::BeerXml, xml).unwrap();
    assert_eq!(beers[0].abv.as_f64(), Some(5.3));
    assert_eq!(beers[0].target_og.as_ref().unwrap().as_f64(), Some(1050.0));
}

#[test]
fn unreadable_documents_say_what_to_fix() {
    let error = import(
        RecipeFormat::BeerXml,
        "<RECIPES><RECIPE><NAME>X</NAME><OG>heavy</OG></RECIPE></RECIPES>",
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "recipe #1: OG must be a number, got `heavy`");
    let error = import(
        RecipeFormat::BeerJson,
        r#"{"beerjson": {"version": 1, "recipes": [{"name": "X", "type": "all grain",
        "batch_size": {"unit": "hogshead", "value": 1}, "efficiency": {"brewhouse": {"unit": "%", "value": 70}},
        "ingredients": {"fermentable_additions": []}}]}}"#,
    )
    .unwrap_err();
    assert_eq!(error.to_string(), "recipe #1: unknown volume unit `hogshead`");
    assert!(
        import(RecipeFormat::BeerJson, "{}")
            .unwrap_err()
            .to_string()
            .starts_with("not BeerJSON")
    );
    assert_eq!(RecipeFormat::sniff("  <?xml"), Some(RecipeFormat::BeerXml));
    assert_eq!(RecipeFormat::sniff("[]"), None);
}
