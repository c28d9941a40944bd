//! The relay tests' program: prints, as one JSON object, exactly what it was
//! given — its arguments, its whole environment, its working directory and
//! its input — so a test can compare them with what was declared.
//!
//! `cargo test` builds it (target/debug/examples/argv_json).

use std::{collections::BTreeMap, io::Read};

fn main() {
    let argv: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let env: BTreeMap<String, String> = std::env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_default();
    let mut stdin = String::new();
    let _ = std::io::stdin().read_to_string(&mut stdin);
    let given = serde_json::json!({ "argv": argv, "env": env, "cwd": cwd, "stdin": stdin });
    println!("{given}");
}
