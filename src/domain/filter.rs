//! List queries: pagination and the Punk API v2 filters, parsed from the raw query string so that every bad
//! parameter is reported (name, reason, value), not just the first one serde trips over.

use super::beer::YearMonth;

pub const DEFAULT_PER_PAGE: u32 = 25;
pub const MAX_PER_PAGE: u32 = 80;
const MAX_IDS: usize = 80;
const MAX_TEXT: usize = 200;

/// Which API surface a query came through: the native API also filters by `style` and rejects unknown
/// parameters (a typo should not silently return everything); the Punk API surface ignores them, as Punk did.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Surface {
    Native,
    Punk,
}

/// Filters combine with AND. Text filters are stored normalised: lower-cased, underscores turned into spaces.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BeerFilter {
    pub abv_gt: Option<f64>,
    pub abv_lt: Option<f64>,
    pub ibu_gt: Option<f64>,
    pub ibu_lt: Option<f64>,
    pub ebc_gt: Option<f64>,
    pub ebc_lt: Option<f64>,
    pub ph_gt: Option<f64>,
    pub ph_lt: Option<f64>,
    pub brewed_before: Option<YearMonth>,
    pub brewed_after: Option<YearMonth>,
    /// Fuzzy: the characters appear in this order in the name.
    pub beer_name: Option<String>,
    /// Fuzzy, against any hop's name.
    pub hops: Option<String>,
    /// Fuzzy, against any malt's name.
    pub malt: Option<String>,
    /// Fuzzy, against the yeast.
    pub yeast: Option<String>,
    /// Substring of any food pairing.
    pub food: Option<String>,
    /// Substring of the style (native API only).
    pub style: Option<String>,
    pub ids: Option<Vec<i64>>,
    /// Only ids above this: where a streamed export resumes (`since_id`). Not a list parameter.
    pub id_gt: Option<i64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ListQuery {
    pub page: u32,
    pub per_page: u32,
    pub filter: BeerFilter,
    /// Sort keys in order of precedence; empty means by id. Storage breaks remaining ties by id, so pages never
    /// overlap or skip a beer.
    pub sort: Vec<SortKey>,
}

impl Default for ListQuery {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: DEFAULT_PER_PAGE,
            filter: BeerFilter::default(),
            sort: Vec::new(),
        }
    }
}

/// A field the native API can sort by.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SortField {
    Id,
    Name,
    Abv,
    Ibu,
    Ebc,
    Ph,
    FirstBrewed,
    CreatedAt,
    UpdatedAt,
}

impl SortField {
    const ALL: [(&'static str, SortField); 9] = [
        ("id", SortField::Id),
        ("name", SortField::Name),
        ("abv", SortField::Abv),
        ("ibu", SortField::Ibu),
        ("ebc", SortField::Ebc),
        ("ph", SortField::Ph),
        ("first_brewed", SortField::FirstBrewed),
        ("created_at", SortField::CreatedAt),
        ("updated_at", SortField::UpdatedAt),
    ];

    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, field)| *field)
    }

    fn names() -> String {
        Self::ALL.map(|(name, _)| name).join(", ")
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

impl ListQuery {
    pub fn offset(&self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }
}

/// One rejected query parameter: its name, what is wrong, and the value given.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamError {
    pub param: String,
    pub msg: String,
    pub value: String,
}

/// Parses a raw query string (`None` when the URL has none) into a list query, or every problem found.
pub fn parse_list_query(raw: Option<&str>, surface: Surface) -> Result<ListQuery, Vec<ParamError>> {
    let mut query = ListQuery::default();
    let mut errors = Vec::new();
    let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes());

    for (param, value) in pairs {
        let mut reject = |msg: &str| {
            errors.push(ParamError {
                param: param.to_string(),
                msg: msg.to_owned(),
                value: value.to_string(),
            })
        };
        let f = &mut query.filter;
        match param.as_ref() {
            // At most i32::MAX, the OpenAPI document's int32.
            "page" => match value.parse::<i32>() {
                Ok(page) if page >= 1 => query.page = page.unsigned_abs(),
                _ => reject("must be a whole number greater than 0"),
            },
            "per_page" => match value.parse::<u32>() {
                Ok(n) if (1..=MAX_PER_PAGE).contains(&n) => query.per_page = n,
                _ => reject("must be a whole number from 1 to 80"),
            },
            "abv_gt" => number(&value, &mut f.abv_gt, &mut reject),
            "abv_lt" => number(&value, &mut f.abv_lt, &mut reject),
            "ibu_gt" => number(&value, &mut f.ibu_gt, &mut reject),
            "ibu_lt" => number(&value, &mut f.ibu_lt, &mut reject),
            "ebc_gt" => number(&value, &mut f.ebc_gt, &mut reject),
            "ebc_lt" => number(&value, &mut f.ebc_lt, &mut reject),
            "ph_gt" => number(&value, &mut f.ph_gt, &mut reject),
            "ph_lt" => number(&value, &mut f.ph_lt, &mut reject),
            "brewed_before" => month(&value, &mut f.brewed_before, &mut reject),
            "brewed_after" => month(&value, &mut f.brewed_after, &mut reject),
            "beer_name" => text(&value, &mut f.beer_name, &mut reject),
            "hops" => text(&value, &mut f.hops, &mut reject),
            "malt" => text(&value, &mut f.malt, &mut reject),
            "yeast" => text(&value, &mut f.yeast, &mut reject),
            "food" => text(&value, &mut f.food, &mut reject),
            "style" if surface == Surface::Native => text(&value, &mut f.style, &mut reject),
            // An app with an empty favourites list sends `ids=`; Punk answered it with no beers.
            "ids" if surface == Surface::Punk && value.is_empty() => f.ids = Some(Vec::new()),
            "ids" => match parse_ids(&value) {
                Some(ids) => f.ids = Some(ids),
                None => reject("must be positive whole numbers separated by |, e.g. 1|2|3 (at most 80)"),
            },
            "sort" if surface == Surface::Native => match parse_sort(&value) {
                Ok(keys) => query.sort = keys,
                Err(msg) => reject(&msg),
            },
            _ if surface == Surface::Native => reject("is not a known parameter"),
            _ => {}
        }
    }
    if errors.is_empty() { Ok(query) } else { Err(errors) }
}

fn number(value: &str, slot: &mut Option<f64>, reject: &mut impl FnMut(&str)) {
    match value.parse::<f64>() {
        Ok(n) if n.is_finite() => *slot = Some(n),
        _ => reject("must be a number"),
    }
}

fn month(value: &str, slot: &mut Option<YearMonth>, reject: &mut impl FnMut(&str)) {
    match YearMonth::parse_filter(value) {
        Some(month) => *slot = Some(month),
        None => reject("must be a date in the format MM-YYYY"),
    }
}

/// Empty text filters are ignored, as Punk did: tutorial apps send `beer_name=` from an empty search box. Control
/// characters can match nothing stored (writes refuse them) and PostgreSQL rejects a NUL outright, so they are a
/// 400 rather than a database error.
fn text(value: &str, slot: &mut Option<String>, reject: &mut impl FnMut(&str)) {
    if value.chars().count() > MAX_TEXT {
        reject("must be at most 200 characters");
    } else if value.chars().any(super::validation::is_forbidden_control) {
        reject("must not contain control characters");
    } else if !value.trim().is_empty() {
        *slot = Some(value.replace('_', " ").to_lowercase());
    }
}

/// `abv:desc,name` -> keys in order. The message names what is wrong and what is allowed.
fn parse_sort(value: &str) -> Result<Vec<SortKey>, String> {
    let mut keys: Vec<SortKey> = Vec::new();
    for item in value.split(',') {
        let (name, direction) = item.trim().split_once(':').unwrap_or((item.trim(), "asc"));
        let Some(field) = SortField::parse(name) else {
            return Err(format!(
                "unknown sort field `{name}`: use a comma-separated list of {}, each optionally followed by :asc or \
                 :desc (e.g. abv:desc,name)",
                SortField::names()
            ));
        };
        let descending = match direction {
            "asc" => false,
            "desc" => true,
            other => return Err(format!("sort direction of `{name}` must be asc or desc, got `{other}`")),
        };
        // As in SQL, a field repeated after its first mention cannot change the order: it is left out.
        if !keys.iter().any(|k| k.field == field) {
            keys.push(SortKey { field, descending });
        }
    }
    Ok(keys)
}

fn parse_ids(value: &str) -> Option<Vec<i64>> {
    let ids: Vec<i64> = value
        .split('|')
        .map(|id| id.trim().parse::<i64>().ok().filter(|id| *id >= 1))
        .collect::<Option<_>>()?;
    (ids.len() <= MAX_IDS).then_some(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(errors: Vec<ParamError>) -> Vec<String> {
        errors.into_iter().map(|e| e.param).collect()
    }

    #[test]
    fn defaults_are_page_one_of_25() {
        assert_eq!(parse_list_query(None, Surface::Punk).unwrap(), ListQuery::default());
    }

    #[test]
    fn every_filter_is_parsed_and_normalised() {
        let q = parse_list_query(
            Some("page=2&per_page=80&abv_gt=4.5&ibu_lt=60&brewed_after=01-2010&beer_name=Punk_IPA&food=Spicy_Food&ids=1|2|3"),
            Surface::Punk,
        )
        .unwrap();
        assert_eq!((q.page, q.per_page, q.offset()), (2, 80, 80));
        assert_eq!(q.filter.abv_gt, Some(4.5));
        assert_eq!(q.filter.ibu_lt, Some(60.0));
        assert_eq!(q.filter.brewed_after, YearMonth::new(2010, 1));
        assert_eq!(q.filter.beer_name.as_deref(), Some("punk ipa"));
        assert_eq!(q.filter.food.as_deref(), Some("spicy food"));
        assert_eq!(q.filter.ids, Some(vec![1, 2, 3]));
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let errors = parse_list_query(
            Some("per_page=0&page=0&abv_gt=abc&brewed_before=13-2020&ids=1|x&ebc_lt=inf"),
            Surface::Punk,
        )
        .unwrap_err();
        assert_eq!(
            params(errors),
            ["per_page", "page", "abv_gt", "brewed_before", "ids", "ebc_lt"]
        );
        let errors = parse_list_query(Some("per_page=81"), Surface::Punk).unwrap_err();
        assert_eq!(errors[0].value, "81");
    }

    #[test]
    fn unknown_parameters_only_fail_the_native_api() {
        assert!(
            parse_list_query(Some("per-page=5&style=ipa"), Surface::Punk)
                .unwrap()
                .filter
                .style
                .is_none()
        );
        let errors = parse_list_query(Some("per-page=5&style=ipa"), Surface::Native).unwrap_err();
        assert_eq!(params(errors), ["per-page"]);
    }

    #[test]
    fn empty_ids_match_nothing_on_v2_and_are_an_error_natively() {
        let q = parse_list_query(Some("ids="), Surface::Punk).unwrap();
        assert_eq!(q.filter.ids, Some(vec![]));
        assert_eq!(
            params(parse_list_query(Some("ids="), Surface::Native).unwrap_err()),
            ["ids"]
        );
    }

    #[test]
    fn ph_filters_are_numbers() {
        let q = parse_list_query(Some("ph_gt=4.2&ph_lt=5"), Surface::Punk).unwrap();
        assert_eq!((q.filter.ph_gt, q.filter.ph_lt), (Some(4.2), Some(5.0)));
        assert_eq!(
            params(parse_list_query(Some("ph_gt=acid&ph_lt=nan"), Surface::Native).unwrap_err()),
            ["ph_gt", "ph_lt"]
        );
    }

    #[test]
    fn sort_keys_are_parsed_in_order() {
        let q = parse_list_query(Some("sort=abv:desc,name,first_brewed:asc"), Surface::Native).unwrap();
        let keys: Vec<_> = q.sort.iter().map(|k| (k.field, k.descending)).collect();
        assert_eq!(
            keys,
            [
                (SortField::Abv, true),
                (SortField::Name, false),
                (SortField::FirstBrewed, false)
            ]
        );
        let repeated = parse_list_query(Some("sort=abv,abv:desc"), Surface::Native).unwrap();
        assert_eq!(repeated.sort.len(), 1);
        assert!(!repeated.sort[0].descending);
    }

    #[test]
    fn bad_sorts_name_the_problem() {
        for (sort, expected) in [
            ("colour", "unknown sort field `colour`"),
            ("abv:up", "must be asc or desc"),
            ("", "unknown sort field ``"),
            ("name,", "unknown sort field ``"),
        ] {
            let errors = parse_list_query(Some(&format!("sort={sort}")), Surface::Native).unwrap_err();
            assert_eq!(errors[0].param, "sort");
            assert!(errors[0].msg.contains(expected), "{sort}: {}", errors[0].msg);
        }
        // The Punk surface has no sort: an unknown parameter there is ignored, as Punk did.
        assert!(
            parse_list_query(Some("sort=colour"), Surface::Punk)
                .unwrap()
                .sort
                .is_empty()
        );
    }

    #[test]
    fn control_characters_in_text_filters_are_refused() {
        let errors = parse_list_query(Some("beer_name=pu%00nk&food=a%1Fb"), Surface::Punk).unwrap_err();
        assert_eq!(params(errors), ["beer_name", "food"]);
    }

    #[test]
    fn empty_text_filters_are_ignored() {
        assert_eq!(
            parse_list_query(Some("beer_name=&food="), Surface::Punk).unwrap(),
            ListQuery::default()
        );
    }
}
