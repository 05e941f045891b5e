//! `X-Total-Count` and RFC 8288 `Link` headers for list answers, on both APIs: the body stays a bare JSON array
//! (what Punk clients parse), the pagination travels beside it.

use axum::http::{HeaderMap, HeaderValue, header};

use crate::domain::ListQuery;

/// The pagination headers of one page of `path` (`/beers` or `/v2/beers`), `total` beers matching in all.
pub fn headers(path: &str, raw_query: Option<&str>, query: &ListQuery, total: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    if let Some(links) = links(path, raw_query, query, total) {
        headers.insert(header::LINK, links);
    }
    headers
}

/// Links to the first, previous, next and last pages, keeping every other query parameter (filters, sort) as
/// the client sent it.
fn links(path: &str, raw_query: Option<&str>, query: &ListQuery, total: u64) -> Option<HeaderValue> {
    let last = total.div_ceil(u64::from(query.per_page)).max(1);
    let page = u64::from(query.page);
    let others: Vec<(String, String)> = url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
        .filter(|(k, _)| k != "page" && k != "per_page")
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let link = |target: u64, rel: &str| {
        let mut query_string = url::form_urlencoded::Serializer::new(String::new());
        query_string
            .append_pair("page", &target.to_string())
            .append_pair("per_page", &query.per_page.to_string());
        query_string.extend_pairs(&others);
        format!("<{path}?{}>; rel=\"{rel}\"", query_string.finish())
    };
    let mut links = vec![link(1, "first")];
    if page > 1 {
        links.push(link((page - 1).min(last), "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
    }
    links.push(link(last, "last"));
    HeaderValue::from_str(&links.join(", ")).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_path_and_the_other_parameters() {
        let query = ListQuery {
            page: 2,
            per_page: 10,
            ..Default::default()
        };
        let headers = headers("/v2/beers", Some("page=2&per_page=10&abv_gt=5"), &query, 35);
        assert_eq!(headers["x-total-count"], "35");
        assert_eq!(
            headers[header::LINK],
            "</v2/beers?page=1&per_page=10&abv_gt=5>; rel=\"first\", \
             </v2/beers?page=1&per_page=10&abv_gt=5>; rel=\"prev\", \
             </v2/beers?page=3&per_page=10&abv_gt=5>; rel=\"next\", \
             </v2/beers?page=4&per_page=10&abv_gt=5>; rel=\"last\""
        );
    }
}
