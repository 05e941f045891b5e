//! Text matching: the Punk fuzzy match, the character masks that reject most names before it, and the term
//! signatures that reject most term lists.

pub(super) fn signature_bit(term: u32) -> u64 {
    1 << (term % 64)
}

/// The signature bits of every term that `matching` marks.
pub(super) fn signature_of(matching: &[bool]) -> u64 {
    (0..matching.len() as u32)
        .filter(|term| matching[*term as usize])
        .fold(0, |bits, term| bits | signature_bit(term))
}

/// The Punk fuzzy match: the needle's characters appear in the haystack in this order (SQL `LIKE '%p%n%k%'`).
/// `str::find` looks for a character with memchr; UTF-8 never matches a character's bytes inside another's.
pub fn fuzzy_match(haystack: &str, needle: &str) -> bool {
    let mut rest = haystack;
    for wanted in needle.chars() {
        match rest.find(wanted) {
            Some(at) => rest = &rest[at + wanted.len_utf8()..],
            None => return false,
        }
    }
    true
}

/// Which characters a text holds, folded into 64 bits: a text can only contain a needle's characters in order if
/// its mask covers the needle's mask.
pub(super) fn char_mask(text: &str) -> u64 {
    text.chars().fold(0, |mask, c| {
        let bit = match c {
            'a'..='z' => c as u32 - 'a' as u32,
            '0'..='9' => 26 + (c as u32 - '0' as u32),
            ' ' => 36,
            other => 37 + (other as u32 % 27),
        };
        mask | (1 << bit)
    })
}
