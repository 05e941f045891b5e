//! Values BeerXML and BeerJSON require that the catalog does not have (Punk recipes give no malt colour or yield,
//! hop alpha acid, grain temperature or brewhouse efficiency). Written as these documented stand-ins, listed in
//! `docs/recipe-formats.md`, and never read back into a catalog beer.

pub const EFFICIENCY_PERCENT: f64 = 75.0;
pub const YIELD_PERCENT: f64 = 80.0;
pub const MALT_COLOR_LOVIBOND: f64 = 0.0;
pub const ALPHA_ACID_PERCENT: f64 = 0.0;
pub const GRAIN_CELSIUS: f64 = 20.0;

/// Yeast brands sold dry; anything else (Wyeast, White Labs, house strains) is taken as liquid.
const DRY_MARKERS: &[&str] = &[
    "safale",
    "saflager",
    "safbrew",
    "fermentis",
    "danstar",
    "lallemand",
    "mangrove",
    "us-05",
    "s-04",
    "w34/70",
    "nottingham",
    "dry",
];

pub fn culture_form(yeast: &str) -> &'static str {
    let yeast = yeast.to_ascii_lowercase();
    if DRY_MARKERS.iter().any(|m| yeast.contains(m)) {
        "dry"
    } else {
        "liquid"
    }
}

pub fn culture_type(yeast: &str) -> &'static str {
    let yeast = yeast.to_ascii_lowercase();
    if yeast.contains("lager") || yeast.contains("pilsner") || yeast.contains("w34") {
        "lager"
    } else if yeast.contains("brett") {
        "brett"
    } else {
        "ale"
    }
}
