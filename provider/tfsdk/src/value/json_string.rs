//! Writing a string as a JSON string literal (shared by the value codec
//! and the type encoding).

/// Writes `s` as a JSON string literal.
pub(crate) fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if u32::from(c) < 0x20 => {
                out.extend_from_slice(b"\\u00");
                let code = u32::from(c);
                out.push(hex_digit(code >> 4));
                out.push(hex_digit(code & 0xf));
            }
            c => {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

fn hex_digit(d: u32) -> u8 {
    char::from_digit(d, 16).map_or(b'0', |c| c as u8)
}
