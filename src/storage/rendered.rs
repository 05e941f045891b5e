//! Answers assembled from stored text: each beer's fields are rendered to JSON once, when written (the `rendered`
//! column); a read splices the id and timestamps around that text and joins the beers of a page, so nothing is
//! decoded and encoded again per request. The result is byte for byte what serialising `Beer` / `PunkBeer` gives,
//! `image_url` included: a beer with a stored image has that image's URL spliced in at answer time, because the URL
//! depends on where this service is reached (`PUBLIC_BASE_URL`), not on what was written.

use std::borrow::{Borrow, Cow};

use super::sql::RenderedRow;
use crate::domain::BeerFields;

/// Which API's shape a beer is answered in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// `/beers`: `{"id", ...fields, "created_at", "updated_at"}`.
    Native,
    /// `/v2/beers`: `{"id", ...fields}`, as the Punk API had it.
    Punk,
}

impl RenderedRow {
    /// Appends this beer, in `shape`, to `out`; a stored image is linked under `image_base` (as
    /// `Beer::link_image` does).
    pub fn write_json(&self, shape: JsonShape, image_base: &str, out: &mut String) {
        let fields = match self.image() {
            Some(image) => {
                let url = format!("{image_base}/images/{}", image.file_name());
                Cow::Owned(with_image_url(&self.rendered, &url))
            }
            None => Cow::Borrowed(self.rendered.as_str()),
        };
        // The stored text is an object: `{` fields `}`; its inside goes after the id.
        let inside = fields
            .trim()
            .strip_prefix('{')
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_default();
        out.push_str("{\"id\":");
        out.push_str(&self.id.to_string());
        if !inside.trim().is_empty() {
            out.push(',');
            out.push_str(inside);
        }
        if shape == JsonShape::Native {
            out.push_str(",\"created_at\":");
            out.push_str(&timestamp(&self.created_at));
            out.push_str(",\"updated_at\":");
            out.push_str(&timestamp(&self.updated_at));
        }
        out.push('}');
    }
}

/// The fields' JSON text with the top-level `image_url` value replaced by `url`. The value is found by its key:
/// in JSON text a `"` inside a string is always escaped, so `"image_url":` can only be a key, and `image_url`
/// comes before every nested object in the rendered order. Rows from before the `rendered` column carry the
/// database's text of the document (a space after the colon, other key order), so that text is decoded and the
/// beer rendered in the API's order.
fn with_image_url(fields: &str, url: &str) -> String {
    const KEY: &str = "\"image_url\":";
    let url_json = serde_json::to_string(url).expect("a string always serialises");
    if let Some(at) = fields.find(KEY) {
        let value_start = at + KEY.len();
        if let Some(value_len) = json_scalar_len(&fields[value_start..]) {
            let mut out = String::with_capacity(fields.len() + url_json.len());
            out.push_str(&fields[..value_start]);
            out.push_str(&url_json);
            out.push_str(&fields[value_start + value_len..]);
            return out;
        }
    }
    let mut document: BeerFields = serde_json::from_str(fields).expect("stored fields are a beer's");
    document.image_url = Some(url.to_owned());
    serde_json::to_string(&document).expect("a beer always serialises to JSON")
}

/// The length of the `null` or string value at the start of `text`, when it is one of those without leading space.
fn json_scalar_len(text: &str) -> Option<usize> {
    if text.starts_with("null") {
        return Some(4);
    }
    let body = text.strip_prefix('"')?;
    let mut escaped = false;
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 2),
            _ => {}
        }
    }
    None
}

/// Exactly as serde writes a `DateTime<Utc>` in a `Beer`.
fn timestamp(at: &chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_string(at).expect("a timestamp always serialises")
}

impl RenderedRow {
    /// This beer as a JSON object in `shape`, a stored image linked under `image_base`.
    pub fn to_json(&self, shape: JsonShape, image_base: &str) -> String {
        let mut out = String::with_capacity(self.rendered.len() + 96);
        self.write_json(shape, image_base, &mut out);
        out
    }
}

/// A JSON array of the rows (owned, or the read model's shared copies), in `shape`, stored images linked under
/// `image_base`.
pub fn json_array<R: Borrow<RenderedRow>>(rows: &[R], shape: JsonShape, image_base: &str) -> String {
    let estimate: usize = rows.iter().map(|row| row.borrow().rendered.len() + 96).sum();
    let mut out = String::with_capacity(estimate + 2);
    out.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        row.borrow().write_json(shape, image_base, &mut out);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Beer, BeerFields, ImageKind, ImageRef, PunkBeer};

    fn beer_and_row(fields: &str, image: Option<ImageRef>) -> (Beer, RenderedRow) {
        let fields: BeerFields = serde_json::from_str(fields).unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00.123456Z")
            .unwrap()
            .to_utc();
        let beer = Beer {
            id: 106,
            fields: fields.clone(),
            created_at: at,
            updated_at: at + chrono::Duration::seconds(1),
            image: image.clone(),
        };
        let row = RenderedRow {
            id: 106,
            rendered: serde_json::to_string(&fields).unwrap(),
            created_at: beer.created_at,
            updated_at: beer.updated_at,
            image_sha256: image.as_ref().map(|image| image.sha256.clone()),
            image_content_type: image.map(|image| image.kind.content_type().to_owned()),
        };
        (beer, row)
    }

    #[test]
    fn the_splice_is_what_serde_writes() {
        let (beer, row) = beer_and_row(
            r#"{"name":"Punk IPA","abv":5.6,"ibu":40,"style":"IPA","food_pairing":["a"]}"#,
            None,
        );
        assert_eq!(
            json_array(std::slice::from_ref(&row), JsonShape::Native, "http://x"),
            serde_json::to_string(&[&beer]).unwrap()
        );
        let punk = PunkBeer::from(beer);
        assert_eq!(
            json_array(&[row], JsonShape::Punk, "http://x"),
            serde_json::to_string(&[punk]).unwrap()
        );
        assert_eq!(json_array::<RenderedRow>(&[], JsonShape::Punk, "http://x"), "[]");
    }

    #[test]
    fn a_stored_image_is_linked_as_present_links_it() {
        let image = ImageRef {
            sha256: "ab".repeat(32),
            kind: ImageKind::Png,
        };
        // A description quoting the key must not be mistaken for it.
        let fields = r#"{"name":"Punk IPA","description":"see \"image_url\": here","image_url":"https://images.punkapi.com/v2/192.png","abv":5.6}"#;
        let (beer, mut row) = beer_and_row(fields, Some(image));
        let base = "https://beers.example.com";
        let expected = serde_json::to_string(&beer.clone().link_image(base)).unwrap();
        let mut out = String::new();
        row.write_json(JsonShape::Native, base, &mut out);
        assert_eq!(out, expected);

        // A row from before the rendered column: the database's text of the document (spaces after colons).
        row.rendered = serde_json::to_string_pretty(&serde_json::to_value(&beer.fields).unwrap()).unwrap();
        let mut out = String::new();
        row.write_json(JsonShape::Native, base, &mut out);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&out).unwrap(),
            serde_json::from_str::<serde_json::Value>(&expected).unwrap()
        );

        // No stored image: the link written with the beer, and a null, are answered as they are.
        let (beer, row) = beer_and_row(r#"{"name":"A","abv":5,"image_url":null}"#, None);
        let mut out = String::new();
        row.write_json(JsonShape::Native, base, &mut out);
        assert_eq!(out, serde_json::to_string(&beer).unwrap());
    }
}
