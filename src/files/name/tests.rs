use super::*;

#[test]
fn a_path_that_climbs_out_becomes_one_plain_name() {
    assert_eq!(sanitise("../../etc/passwd"), "etc_passwd");
    assert_eq!(sanitise("..\\..\\boot.ini"), "boot.ini");
    assert_eq!(sanitise("/etc/shadow"), "etc_shadow");
}

#[test]
fn separators_are_replaced_not_followed() {
    assert_eq!(sanitise("a/b"), "a_b");
    assert_eq!(sanitise("a\\b.txt"), "a_b.txt");
}

#[test]
fn a_hidden_file_loses_its_leading_dot() {
    assert_eq!(sanitise(".bashrc"), "bashrc");
    assert_eq!(sanitise("..."), FALLBACK);
    assert_eq!(sanitise(".ssh/authorized_keys"), "ssh_authorized_keys");
}

#[test]
fn runs_of_dots_become_one() {
    assert_eq!(sanitise("a..b"), "a.b");
    assert_eq!(sanitise("report....pdf"), "report.pdf");
    assert_eq!(sanitise(".."), FALLBACK);
}

#[test]
fn an_empty_name_gets_the_fallback() {
    assert_eq!(sanitise(""), FALLBACK);
    assert_eq!(sanitise("   "), FALLBACK);
    assert_eq!(sanitise("\u{202e}"), FALLBACK);
}

#[test]
fn control_characters_are_replaced() {
    assert_eq!(sanitise("a\nb\tc\0d\u{7f}e.txt"), "a_b_c_d_e.txt");
    assert_eq!(sanitise("\u{1b}[31mred.txt"), "31mred.txt");
}

#[test]
fn right_to_left_overrides_cannot_disguise_the_extension() {
    // Shown as "invoice_cod.exe" reversed: "invoicexe.doc".
    let name = sanitise("invoice\u{202e}cod.exe");
    assert_eq!(name, "invoice_cod.exe");
    for c in [
        '\u{200e}', '\u{200f}', '\u{202a}', '\u{2066}', '\u{2069}', '\u{061c}', '\u{feff}',
    ] {
        assert!(!sanitise(&format!("a{c}b.txt")).contains(c), "{c:?} kept");
    }
}

#[test]
fn a_long_name_is_cut_to_128_bytes_keeping_its_extension() {
    let name = sanitise(&format!("{}.tar", "a".repeat(300)));
    assert_eq!(name.len(), MAX_BYTES);
    assert!(name.ends_with("a.tar"));
    let long_extension = sanitise(&"b".repeat(300));
    assert_eq!(long_extension, "b".repeat(128));
}

#[test]
fn a_cut_never_splits_a_character() {
    let name = sanitise(&format!("{}.pdf", "é".repeat(200)));
    assert!(name.len() <= MAX_BYTES);
    assert!(name.ends_with(".pdf"));
    assert!(name.starts_with('é'));
}

#[test]
fn ordinary_names_stay_as_they_are() {
    assert_eq!(
        sanitise("report 2026-12 (final).pdf"),
        "report 2026-12 (final).pdf"
    );
    assert_eq!(sanitise("Отчёт.docx"), "Отчёт.docx");
}

#[test]
fn a_dash_cannot_start_a_name() {
    assert_eq!(sanitise("-rf"), "rf");
    assert_eq!(sanitise("--help.txt"), "help.txt");
}

#[test]
fn collision_suffixes_keep_the_extension_and_the_limit() {
    assert_eq!(fit("report", "-1", Some("pdf")), "report-1.pdf");
    let long = "x".repeat(128);
    let name = fit(&long, "-12", Some("pdf"));
    assert_eq!(name.len(), MAX_BYTES);
    assert!(name.ends_with("x-12.pdf"));
}
