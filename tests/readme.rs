//! README.md's command lines run as written: every `cargo run --release -- ...` line of its
//! `sh` blocks runs through the built binary (shell globs expanded, as a shell would) and
//! must succeed without a panic, so the README cannot drift from the code.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const PREFIX: &str = "cargo run --release -- ";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `cargo run --release -- ARGS` lines of README's ```sh blocks, as argument lists.
fn readme_commands() -> Vec<String> {
    let text = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut in_sh = false;
    let mut commands = Vec::new();
    for line in text.lines() {
        match line.trim() {
            "```sh" => in_sh = true,
            "```" => in_sh = false,
            l if in_sh && l.starts_with(PREFIX) => commands.push(l[PREFIX.len()..].to_string()),
            _ => {}
        }
    }
    commands
}

/// A word with `*` in its file name becomes the sorted matching files, as `sh` expands it.
fn expand(word: &str) -> Vec<String> {
    let path = Path::new(word);
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    let Some((head, tail)) = name.as_deref().and_then(|n| n.split_once('*')) else {
        return vec![word.to_string()];
    };
    let dir = root().join(path.parent().unwrap_or(Path::new(".")));
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let n = p.file_name().unwrap().to_string_lossy();
            n.starts_with(head) && n.ends_with(tail)
        })
        .collect();
    found.sort();
    assert!(!found.is_empty(), "{word} matches no file");
    found.iter().map(|p| p.display().to_string()).collect()
}

#[test]
fn every_readme_command_line_runs() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 5,
        "README lost its command lines: {commands:?}"
    );
    if common::gpu().is_none() {
        return; // every command but `models` and `info` needs an adapter
    }
    for line in commands {
        let args: Vec<String> = line.split_whitespace().flat_map(expand).collect();
        let out = Command::new(env!("CARGO_BIN_EXE_effnet"))
            .args(&args)
            .current_dir(root())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && !stderr.contains("panicked"),
            "README line `{line}` failed: {stderr}"
        );
    }
}
