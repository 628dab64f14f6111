//! Folds whatever a person types into the plain form that the patterns are written against.
//!
//! Patterns in `responses/` are written for lower-case ASCII words separated by single spaces.
//! Folding first means an operator never has to think about capitals, accents, smart quotes,
//! emoji, look-alike letters or invisible characters, and it keeps the regex engine on its
//! fast ASCII-only path (see DESIGN.md, "Measured notes for the matcher").
//!
//! Cost: linear in the input. Pure ASCII input (most messages) takes a fast path: one pass
//! through a 256-entry table and one allocation; other text goes through NFKD and a
//! per-character fold first.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Fold `text` to lower-case ASCII words separated by single spaces.
///
/// - Letters are lower-cased; accents and other combining marks are dropped ("hów" is "how").
/// - Compatibility forms are unified (NFKD): full-width letters, ligatures, superscripts.
/// - Letters that look like Latin ones (Cyrillic "а", Greek "ο") become the Latin letter, so a
///   word disguised with them still matches; other scripts are transliterated.
/// - Zero-width and other invisible characters are removed without leaving a gap, so
///   "sex\u{200b}ting" is "sexting".
/// - Apostrophes are removed ("don't" is "dont"); every other run of punctuation, symbols and
///   white space becomes one space. The result has no leading or trailing space.
pub fn fold(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    if text.is_ascii() {
        fold_ascii_into(text.as_bytes(), &mut out);
    } else {
        let mut ascii = String::with_capacity(text.len());
        for c in text.nfkd() {
            push_folded_char(c, &mut ascii);
        }
        fold_ascii_into(ascii.as_bytes(), &mut out);
    }
    // Only ASCII letters, digits and spaces were pushed, so this is always valid UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

/// What folding does with each byte of ASCII text: `SEP` starts a new word, `DROP` vanishes
/// (apostrophes), anything else is the byte to keep (letters lowered).
const SEP: u8 = 0;
const DROP: u8 = 1;
const FOLD: [u8; 256] = {
    let mut table = [SEP; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'a'..=b'z' | b'0'..=b'9' => c,
            b'A'..=b'Z' => c.to_ascii_lowercase(),
            b'\'' | b'`' => DROP,
            _ => SEP,
        };
        b += 1;
    }
    table
};

/// Lower-case ASCII letters and digits pass; apostrophes vanish; anything else separates words.
fn fold_ascii_into(bytes: &[u8], out: &mut Vec<u8>) {
    let mut pending_space = false;
    for &b in bytes {
        match FOLD[b as usize] {
            SEP => pending_space = true,
            DROP => {}
            keep => {
                if pending_space && !out.is_empty() {
                    out.push(b' ');
                }
                pending_space = false;
                out.push(keep);
            }
        }
    }
}

/// Append the ASCII rendering of one (already decomposed) character to `out`.
fn push_folded_char(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c);
    } else if is_combining_mark(c) || is_invisible(c) {
        // dropped without a gap
    } else if is_apostrophe(c) {
        out.push('\'');
    } else if let Some(latin) = homoglyph(c) {
        out.push(latin);
    } else if c.is_whitespace() {
        out.push(' ');
    } else if let Some(word) = emoji_word(c) {
        out.push(' ');
        out.push_str(word);
        out.push(' ');
    } else {
        match deunicode::deunicode_char(c) {
            // Emoji and symbols transliterate to names such as "smiling face"; they carry no
            // meaning for the intent table, so they only separate words.
            Some(s) if c.is_alphanumeric() => out.push_str(s),
            _ => out.push(' '),
        }
    }
}

/// The few emoji that are a word on their own and matter here: a child who can only tap "🆘"
/// is asking for help now, and must not be heard as an empty message.
fn emoji_word(c: char) -> Option<&'static str> {
    match c {
        '\u{1F198}' => Some("sos"), // 🆘
        _ => None,
    }
}

/// Characters that render as nothing and are used (deliberately or by keyboards) inside words.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'           // soft hyphen
        | '\u{034F}'         // combining grapheme joiner
        | '\u{061C}'         // Arabic letter mark
        | '\u{115F}' | '\u{1160}'
        | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{200B}'..='\u{200F}' // zero-width space, joiners, direction marks
        | '\u{202A}'..='\u{202E}' // direction embeddings and overrides
        | '\u{2060}'..='\u{206F}' // word joiner, invisible operators, direction isolates
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}' // variation selectors
        | '\u{FEFF}'              // byte order mark
        | '\u{FFA0}'
        | '\u{1D173}'..='\u{1D17A}'
        | '\u{E0000}'..='\u{E0FFF}' // tags and supplementary variation selectors
    ) || c.is_control() && !c.is_whitespace()
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\u{2018}' | '\u{2019}' | '\u{02BC}' | '\u{2032}' | '\u{FF07}'
    )
}

/// Cyrillic and Greek letters that are drawn like a Latin letter, mapped to that letter.
///
/// Transliteration would turn Cyrillic "р" into "r" and "с" into "s"; someone disguising
/// "nudes" or "porn" means the letter it looks like, so look-alikes are mapped by shape first.
fn homoglyph(c: char) -> Option<char> {
    let latin = match c {
        'а' | 'А' | 'α' | 'Α' => 'a',
        'в' | 'В' | 'β' | 'Β' => 'b',
        'с' | 'С' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'Е' | 'ё' | 'Ё' | 'ε' | 'Ε' => 'e',
        'һ' | 'Н' | 'Η' => 'h',
        'і' | 'І' | 'ι' | 'Ι' | 'ӏ' => 'i',
        'ј' | 'Ј' => 'j',
        'к' | 'К' | 'κ' | 'Κ' => 'k',
        'м' | 'М' | 'Μ' => 'm',
        'п' | 'η' | 'Ν' => 'n',
        'о' | 'О' | 'ο' | 'Ο' | 'σ' => 'o',
        'р' | 'Р' | 'ρ' | 'Ρ' => 'p',
        'ԛ' => 'q',
        'г' => 'r',
        'ѕ' | 'Ѕ' => 's',
        'т' | 'Т' | 'τ' | 'Τ' => 't',
        'υ' | 'ս' => 'u',
        'ν' | 'ѵ' => 'v',
        'ԝ' | 'ω' => 'w',
        'х' | 'Х' | 'χ' | 'Χ' => 'x',
        'у' | 'У' | 'γ' | 'Υ' => 'y',
        'Ζ' => 'z',
        _ => return None,
    };
    Some(latin)
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folds_case_punctuation_and_space() {
        assert_eq!(
            fold("  Where do I REPORT...  a pic?!"),
            "where do i report a pic"
        );
        assert_eq!(
            fold("Don't know, what's Childline's number"),
            "dont know whats childlines number"
        );
        assert_eq!(fold("Dyfed-Powys"), "dyfed powys");
    }

    #[test]
    fn strips_accents_and_invisible_characters() {
        assert_eq!(fold("hów"), "how");
        assert_eq!(fold("sex\u{200b}ting"), "sexting");
        assert_eq!(fold("nu\u{00AD}des"), "nudes");
        assert_eq!(fold("\u{202E}help\u{202C} me"), "help me");
    }

    #[test]
    fn maps_look_alike_letters_to_latin() {
        assert_eq!(fold("nudеs"), "nudes"); // Cyrillic е
        assert_eq!(fold("рorn"), "porn"); // Cyrillic р
        assert_eq!(fold("ＨＥＬＰ"), "help"); // full width
        assert_eq!(fold("Ŵyr"), "wyr");
    }

    #[test]
    fn emoji_and_symbols_only_separate_words() {
        assert_eq!(fold("help😢me"), "help me");
        assert_eq!(fold("😢"), "");
        assert_eq!(fold(" \t\n "), "");
        assert_eq!(fold("a\u{0}b"), "a b");
    }

    #[test]
    fn an_sos_emoji_is_the_word() {
        assert_eq!(fold("🆘"), "sos");
        assert_eq!(fold("pls🆘🆘"), "pls sos sos");
    }
}
