#!/usr/bin/env python3
"""Counts the facts the synthetic catalog generator draws on (ingredient names and how often each occurs, list
lengths, measurement quantiles) from the Punk API dataset, and writes them as Rust constants:

    scripts/derive-vocabulary.py ../shared/data/punkapi/beers.json > src/commands/generate/vocabulary.rs

No description, recipe or other text of the dataset is copied (its licence is not for commercial use)."""
import collections
import json
import sys

b = json.load(open(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/punkapi/beers.json"))
hops, malts, yeasts = collections.Counter(), collections.Counter(), collections.Counter()
nh, nm, nf = collections.Counter(), collections.Counter(), collections.Counter()
adds, attrs = collections.Counter(), collections.Counter()
for x in b:
    hs = {h["name"] for h in x["ingredients"]["hops"]}
    nh[len(hs)] += 1
    for h in hs:
        hops[h] += 1
    for h in x["ingredients"]["hops"]:
        adds[h["add"]] += 1
        attrs[h["attribute"]] += 1
    ms = {m["name"] for m in x["ingredients"]["malt"]}
    nm[len(ms)] += 1
    for m in ms:
        malts[m] += 1
    # A strain's trade name is a fact; the one anecdote in the data is not a strain.
    if x["ingredients"]["yeast"] and "recovered" not in x["ingredients"]["yeast"]:
        yeasts[x["ingredients"]["yeast"]] += 1
    nf[len(x["food_pairing"])] += 1


def q(k):
    v = sorted(x[k] for x in b if x.get(k) is not None)
    return [v[int(p * (len(v) - 1))] for p in [0, 0.05, 0.25, 0.5, 0.75, 0.95, 1]]


def weighted(name, c, doc):
    print(f"/// {doc}")
    print(f"pub const {name}: &[(&str, u32)] = &[")
    for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])):  # ties by name: reproducible output
        print(f"    ({json.dumps(k, ensure_ascii=False)}, {v}),")
    print("];\n")


def counts(name, c, doc):
    print(f"/// {doc}")
    print(f"pub const {name}: &[(usize, u32)] = &[" + ", ".join(f"({k}, {v})" for k, v in sorted(c.items())) + "];\n")


print("""//! Vocabularies and distributions for the synthetic catalog, counted from the Punk API dataset
//! (`../shared/data/punkapi/beers.json`, 325 recipes) by `scripts/derive-vocabulary.py`. Only facts are kept: the
//! names of hops, malts and yeasts (trade names of ingredients) and how often each occurs, how many of each a
//! recipe lists, and the spread of each measurement. No description, recipe or other text of the dataset is here.
//!
//! Weights are occurrence counts (a hop is counted once per recipe however many additions it has).
""")
weighted("HOPS", hops, "Hop names (and the odd adjunct the data lists as a hop), by the number of recipes using each.")
weighted("MALTS", malts, "Malt and fermentable names, by the number of recipes using each.")
weighted("YEASTS", yeasts, "Yeast strains, by the number of recipes using each.")
weighted("HOP_ADDITIONS", adds, "When a hop is added, as written in the data (mixed case and minutes included).")
weighted("HOP_ATTRIBUTES", attrs, "What a hop addition is for, as written in the data.")
counts("HOPS_PER_RECIPE", nh, "How many distinct hops a recipe lists: (count, recipes).")
counts("MALTS_PER_RECIPE", nm, "How many distinct malts a recipe lists: (count, recipes).")
counts("PAIRINGS_PER_RECIPE", nf, "How many food pairings a recipe lists: (count, recipes).")
print("/// Quantiles (minimum, 5%, 25%, median, 75%, 95%, maximum) of each measurement; values are drawn between them.")
for n, k in [("ABV", "abv"), ("IBU", "ibu"), ("EBC", "ebc"), ("SRM", "srm"), ("PH", "ph"), ("TARGET_OG", "target_og"),
             ("TARGET_FG", "target_fg"), ("ATTENUATION", "attenuation_level")]:
    v = q(k)
    if k == "ph":
        v[-1] = 6.0  # the dataset's one pH of 79 is an out-of-range quirk; generated beers stay valid
    print(f"pub const {n}: [f64; 7] = [" + ", ".join(f"{float(x)!r}" for x in v) + "];")
print()
nulls = collections.Counter()
for x in b:
    for k in ["ibu", "ebc", "srm", "ph", "target_og", "target_fg", "attenuation_level", "image_url"]:
        if x.get(k) is None:
            nulls[k] += 1
print("/// How many of the 325 recipes have no value, per field (nulls are drawn at the same rate).")
print("pub const RECIPES: u32 = 325;")
for k in ["ibu", "ebc", "srm", "ph", "image_url"]:
    print(f"pub const NULL_{k.upper()}: u32 = {nulls[k]};")
years = collections.Counter(int(x["first_brewed"][-4:]) for x in b)
print("\n/// First-brewed years: (year, recipes).")
print("pub const FIRST_BREWED_YEARS: &[(i64, u32)] = &[" + ", ".join(f"({k}, {v})" for k, v in sorted(years.items())) + "];")
yo = sum(1 for x in b if len(x["first_brewed"]) == 4)
print(f"/// Recipes whose first_brewed is a bare year (`2016`) rather than `MM/YYYY`.\npub const YEAR_ONLY_FIRST_BREWED: u32 = {yo};")
tw = sum(1 for x in b if x["method"]["twist"] is not None)
print(f"/// Recipes with a `twist` in their method.\npub const WITH_TWIST: u32 = {tw};")
