"""Reads the service's recipe exports with real tools (run by scripts/check-recipe-formats.sh).

usage: check_recipe_formats.py BASE_URL BEERJSON_SCHEMA_DIR PUNK_BEERS_JSON

Every beer of the Punk dataset, as served by the catalog at BASE_URL:
- its BeerJSON (download, `Accept` negotiation, and the list pages) validates against the BeerJSON 1.0 schema;
- its BeerXML (the same three ways) is parsed by pybeerxml with the beer's name, batch size, OG, FG, IBU, ABV,
  hops and malts (amounts in the formats' units: kilograms, litres, specific gravity).
Exits 1 listing every mismatch.
"""

import json
import math
import pathlib
import sys
import urllib.request

from jsonschema import Draft7Validator
from pybeerxml.parser import Parser
from referencing import Registry, Resource

BEERJSON = "application/vnd.beerjson+json"
PER_PAGE = 80
problems = []


def get(url, accept=None):
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    with urllib.request.urlopen(request) as response:
        return response.read().decode("utf-8"), response.headers


def schema_validator(folder):
    resources = []
    root = None
    for path in sorted(pathlib.Path(folder).glob("*.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
        if path.name == "beer.json":
            root = schema
    registry = Registry().with_resources(resources)
    return Draft7Validator(root, registry=registry)


def close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def check_beerjson(validator, text, where):
    document = json.loads(text)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    for error in errors[:5]:
        path = "/".join(str(p) for p in error.absolute_path)
        problems.append(f"{where}: BeerJSON schema: {path}: {error.message[:200]}")
    return document["beerjson"]["recipes"]


def weight_kg(amount, usual_kg):
    factor = {"kilograms": 1.0, "kilogram": 1.0, "grams": 0.001}.get(amount["unit"], usual_kg)
    return amount["value"] * factor


def check_beerxml(text, beers, where):
    recipes = Parser().parse_from_string(text)
    if len(recipes) != len(beers):
        problems.append(f"{where}: pybeerxml read {len(recipes)} recipes, expected {len(beers)}")
        return
    for recipe, beer in zip(recipes, beers):
        label = f"{where} beer {beer['id']}"
        expected = {
            "name": beer["name"],
            "batch_size": beer["volume"]["value"],
            "og": beer["target_og"] / 1000 if beer["target_og"] else None,
            "fg": beer["target_fg"] / 1000 if beer["target_fg"] else None,
            "ibu": beer["ibu"],
            "abv": beer["abv"],
        }
        got = {
            "name": recipe.name,
            "batch_size": recipe.batch_size,
            "og": recipe.og_,
            "fg": recipe.fg_,
            "ibu": recipe.ibu_,
            "abv": recipe.abv_,
        }
        for field, value in expected.items():
            same = got[field] == value if field == "name" else close(got[field], value)
            if not same:
                problems.append(f"{label}: {field} is {got[field]!r}, expected {value!r}")
        hops = [(h.name, h.amount) for h in recipe.hops]
        want_hops = [(h["name"], weight_kg(h["amount"], 0.001)) for h in beer["ingredients"]["hops"]]
        malts = [(f.name, f.amount) for f in recipe.fermentables]
        want_malts = [(m["name"], weight_kg(m["amount"], 1.0)) for m in beer["ingredients"]["malt"]]
        for kind, have, want in (("hops", hops, want_hops), ("malts", malts, want_malts)):
            if len(have) != len(want) or any(
                a[0] != b[0] or not close(a[1], b[1]) for a, b in zip(have, want)
            ):
                problems.append(f"{label}: {kind} are {have}, expected {want}")


def main():
    base, schema_dir, punk_path = sys.argv[1:4]
    validator = schema_validator(schema_dir)
    punk = {beer["id"]: beer for beer in json.loads(pathlib.Path(punk_path).read_text())}
    catalog = []
    page = 1
    while True:
        query = f"per_page={PER_PAGE}&page={page}"
        text, _ = get(f"{base}/beers?{query}")
        beers = json.loads(text)
        if not beers:
            break
        catalog.extend(beers)
        recipes = check_beerjson(validator, get(f"{base}/beers.beerjson?{query}")[0], f"/beers.beerjson page {page}")
        if [r["name"] for r in recipes] != [b["name"] for b in beers]:
            problems.append(f"/beers.beerjson page {page}: recipe names differ from /beers")
        check_beerxml(get(f"{base}/beers.xml?{query}")[0], beers, f"/beers.xml page {page}")
        page += 1
    if sorted(b["id"] for b in catalog) != sorted(punk):
        problems.append(f"the catalog holds {len(catalog)} beers, the dataset {len(punk)}")
    for beer in catalog:
        beer_id = beer["id"]
        for text, where in (
            (get(f"{base}/beers/{beer_id}.beerjson")[0], f"/beers/{beer_id}.beerjson"),
            (get(f"{base}/beers/{beer_id}", BEERJSON)[0], f"/beers/{beer_id} as {BEERJSON}"),
        ):
            recipes = check_beerjson(validator, text, where)
            if len(recipes) != 1 or recipes[0]["name"] != beer["name"]:
                problems.append(f"{where}: not the one recipe of {beer['name']!r}")
        check_beerxml(get(f"{base}/beers/{beer_id}.xml")[0], [beer], f"/beers/{beer_id}.xml")
        check_beerxml(get(f"{base}/beers/{beer_id}", "application/xml")[0], [beer], f"/beers/{beer_id} as XML")
    for problem in problems:
        print(f"check-recipe-formats: {problem}", file=sys.stderr)
    if problems:
        print(f"check-recipe-formats: FAIL: {len(problems)} problems", file=sys.stderr)
        sys.exit(1)
    print(
        f"PASS: {len(catalog)} Punk beers: BeerJSON valid against the BeerJSON 1.0 schema and BeerXML read back "
        "by pybeerxml (name, batch size, OG, FG, IBU, ABV, hops, malts), as downloads, by Accept and in list pages"
    )


if __name__ == "__main__":
    main()
