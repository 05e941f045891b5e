//! Answers assembled from stored text: each beer's fields are rendered to JSON once, when written (the `rendered`
//! column); a read splices the id and timestamps around that text and joins the beers of a page, so nothing is
//! decoded and encoded again per request. The result is byte for byte what serialising `Beer` / `PunkBeer` gives.

use super::sql::RenderedRow;

/// Which API's shape a beer is answered in.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JsonShape {
    /// `/beers`: `{"id", ...fields, "created_at", "updated_at"}`.
    Native,
    /// `/v2/beers`: `{"id", ...fields}`, as the Punk API had it.
    Punk,
}

impl RenderedRow {
    /// Appends this beer, in `shape`, to `out`.
    pub fn write_json(&self, shape: JsonShape, out: &mut String) {
        // The stored text is an object: `{` fields `}`; its inside goes after the id.
        let inside = self
            .rendered
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

/// Exactly as serde writes a `DateTime<Utc>` in a `Beer`.
fn timestamp(at: &chrono::DateTime<chrono::Utc>) -> String {
    serde_json::to_string(at).expect("a timestamp always serialises")
}

/// A JSON array of the rows, in `shape`.
pub fn json_array(rows: &[RenderedRow], shape: JsonShape) -> String {
    let estimate: usize = rows.iter().map(|row| row.rendered.len() + 96).sum();
    let mut out = String::with_capacity(estimate + 2);
    out.push('[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        row.write_json(shape, &mut out);
    }
    out.push(']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Beer, BeerFields, PunkBeer};

    #[test]
    fn the_splice_is_what_serde_writes() {
        let fields: BeerFields =
            serde_json::from_str(r#"{"name":"Punk IPA","abv":5.6,"ibu":40,"style":"IPA","food_pairing":["a"]}"#)
                .unwrap();
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00.123456Z")
            .unwrap()
            .to_utc();
        let beer = Beer {
            id: 106,
            fields: fields.clone(),
            created_at: at,
            updated_at: at + chrono::Duration::seconds(1),
        };
        let row = RenderedRow {
            id: 106,
            rendered: serde_json::to_string(&fields).unwrap(),
            created_at: beer.created_at,
            updated_at: beer.updated_at,
        };
        assert_eq!(
            json_array(std::slice::from_ref(&row), JsonShape::Native),
            serde_json::to_string(&[&beer]).unwrap()
        );
        let punk = PunkBeer::from(beer);
        assert_eq!(
            json_array(&[row], JsonShape::Punk),
            serde_json::to_string(&[punk]).unwrap()
        );
        assert_eq!(json_array(&[], JsonShape::Punk), "[]");
    }
}
