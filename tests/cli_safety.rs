//! What the command line says and does around the work (issue 26): a closed stderr (row 3),
//! `--arch` against a file's own metadata (row 5), EXIF orientation (row 9), the caches
//! without a home folder or when damaged, and messages that name their image truly.

mod common;

use common::{
    effnet_command as command, effnet_run as effnet, fresh_folder as folder, stderr_of as stderr,
};

use effnet::Model;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

const BUNDLED: &str = "assets/models/tf_efficientnet_lite0.f16.safetensors";

fn photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/images")
        .join(name)
}

/// Runs `args` with stderr a pipe whose reader is already gone: every message is a failed
/// write. Before, the first one panicked ("failed printing to stderr"), exit 101.
fn with_closed_stderr(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Output {
    let mut child = command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    child.wait_with_output().unwrap()
}

/// Row 3: messages, progress bars and errors on a closed stderr end in the run's own exit
/// code, never a panic's 101.
#[test]
fn a_closed_stderr_is_no_panic() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("stderr");
    let broken = dir.join("broken.jpg");
    std::fs::write(&broken, b"not a picture").unwrap();
    let good = photo("n07747607_orange.JPEG");
    let out = with_closed_stderr(&[&"classify", &"--res", &"32", &good]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("orange"));
    let out = with_closed_stderr(&[&"classify", &"--res", &"32", &good, &broken]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "an unreadable image fails the run"
    );
    // A progress bar draws on stderr too (where stderr is a terminal; eval still writes its
    // start-up lines there).
    let class = dir.join("folder").join("n07747607");
    std::fs::create_dir_all(&class).unwrap();
    std::fs::copy(&good, class.join("orange.JPEG")).unwrap();
    let out = with_closed_stderr(&[&"eval", &"--res", &"32", &dir.join("folder")]);
    assert_eq!(out.status.code(), Some(0));
    let target = dir.join("f.safetensors");
    let out = with_closed_stderr(&[&"features", &"--res", &"32", &good, &"-o", &target]);
    assert_eq!(out.status.code(), Some(0));
    assert!(target.exists());
}

/// Row 5: `--arch` naming another model than the file's metadata is refused, naming both,
/// unless `--force-arch`; the library's `Model::from_file` follows the same rule.
#[test]
fn arch_against_the_files_own_metadata_is_refused() {
    let dir = folder("arch");
    let file = dir.join("lite0.safetensors");
    let out = effnet(&[&"convert", &BUNDLED, &file]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = effnet(&[&"info", &file, &"--arch", &"efficientnet_lite0"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    for part in [
        "efficientnet_lite0",
        "tf_efficientnet_lite0",
        "--force-arch",
    ] {
        assert!(said.contains(part), "missing {part}: {said}");
    }
    let out = effnet(&[
        &"info",
        &file,
        &"--arch",
        &"efficientnet_lite0",
        &"--force-arch",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // The same model under its own name needs no forcing.
    let out = effnet(&[&"info", &file, &"--arch", &"tf_efficientnet_lite0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let refused = Model::from_file(&file, Some("efficientnet_lite0")).unwrap_err();
    assert!(refused.to_string().contains("--force-arch"), "{refused}");
    let forced = Model::from_file_forced(&file, "efficientnet_lite0").unwrap();
    let own = Model::from_file(&file, None).unwrap();
    assert_eq!(forced.arch.name, "efficientnet_lite0");
    assert_ne!(
        forced.arch.padding, own.arch.padding,
        "forcing takes --arch's padding"
    );
}

/// `bytes` of a JPEG with an APP1 EXIF block holding Orientation = `value` after its SOI.
fn with_orientation(jpeg: &[u8], value: u16) -> Vec<u8> {
    let mut tiff = b"Exif\0\0MM\0\x2a\0\0\0\x08".to_vec();
    tiff.extend(1u16.to_be_bytes()); // one entry
    tiff.extend(0x0112u16.to_be_bytes()); // Orientation
    tiff.extend(3u16.to_be_bytes()); // SHORT
    tiff.extend(1u32.to_be_bytes());
    tiff.extend(value.to_be_bytes());
    tiff.extend([0, 0, 0, 0, 0, 0]); // padding, then no next IFD
    let mut out = jpeg[..2].to_vec();
    out.extend([0xff, 0xe1]);
    out.extend((tiff.len() as u16 + 2).to_be_bytes());
    out.extend(tiff);
    out.extend(&jpeg[2..]);
    out
}

fn embedding(args: &[&dyn AsRef<std::ffi::OsStr>], out: &Path) -> Vec<f32> {
    let run = effnet(&[args, &[&"--res", &"64", &"-o", &out]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let sd = effnet::checkpoint::load(out).unwrap();
    sd.tensors["embeddings"].data.clone()
}

/// Row 9: a photo tagged "rotate 90°" reaches a timm model as stored, as PIL gives it to timm
/// (before, effnet turned it: cosine 0.83 to timm's embedding); `--exif on` turns it.
#[test]
fn exif_orientation_follows_the_models_source() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("exif");
    let plain = photo("n01531178_goldfinch.JPEG");
    let tagged = dir.join("tagged.jpg");
    std::fs::write(
        &tagged,
        with_orientation(&std::fs::read(&plain).unwrap(), 6),
    )
    .unwrap();
    let out = dir.join("e.safetensors");
    let stored = embedding(&[&"features", &plain], &out);
    let default = embedding(&[&"features", &tagged], &out);
    let off = embedding(&[&"features", &tagged, &"--exif", &"off"], &out);
    let on = embedding(&[&"features", &tagged, &"--exif", &"on"], &out);
    // Same pixels in, same program: bit-identical out.
    assert_eq!(
        default, stored,
        "the tag is ignored by default for a timm model"
    );
    assert_eq!(off, stored);
    let differs = on.iter().zip(&stored).filter(|(a, b)| a != b).count();
    assert!(
        differs > on.len() / 2,
        "--exif on turns the photo: {differs} values differ"
    );
}

/// A missing home folder turns the caches off with a note instead of creating the folder;
/// a damaged tuning cache is said in one line and recovered from.
#[test]
fn caches_without_a_home_folder_or_damaged() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("caches");
    let home = dir.join("no-such-home");
    let good = photo("n07747607_orange.JPEG");
    let args: [&dyn AsRef<std::ffi::OsStr>; 4] = [&"classify", &"--res", &"32", &good];
    let out = command(&args)
        .env("HOME", &home)
        .env_remove("XDG_CACHE_HOME")
        .env_remove("EFFNET_CACHE_DIR")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("caches off"), "{}", stderr(&out));
    assert!(!home.exists(), "effnet created the home folder");
    let cache = dir.join("cache");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("tuning.json"), b"{ damaged").unwrap();
    let out = command(&args)
        .env("EFFNET_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = stderr(&out);
    let notes: Vec<&str> = said.lines().filter(|l| l.contains("is damaged")).collect();
    assert_eq!(notes.len(), 1, "{said}");
    assert!(notes[0].contains("tuning.json") && notes[0].contains("effnet tune"));
    // The run kept its compiled pipelines, where the driver has a pipeline cache: a damaged
    // cache file is started afresh with a note too.
    let pipelines = (std::fs::read_dir(&cache).unwrap().flatten())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().contains("pipeline"))
        });
    let Some(pipelines) = pipelines else { return };
    let mut bytes = std::fs::read(&pipelines).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&pipelines, bytes).unwrap();
    std::fs::remove_file(cache.join("tuning.json")).unwrap();
    let out = command(&args)
        .env("EFFNET_CACHE_DIR", &cache)
        .output()
        .unwrap();
    let said = stderr(&out);
    assert!(out.status.success(), "{said}");
    let notes: Vec<&str> = said.lines().filter(|l| l.contains("is damaged")).collect();
    assert_eq!(notes.len(), 1, "{said}");
    assert!(notes[0].contains("pipeline cache"), "{said}");
}

/// An image from standard input is `-` in messages (before, `<memory>`), and a decoder's
/// message that ends in a line break no longer splits the error line.
#[test]
fn image_errors_name_the_image_on_one_line() {
    if common::gpu().is_none() {
        return;
    }
    let jpeg = std::fs::read(photo("n07747607_orange.JPEG")).unwrap();
    let mut child = command(&[&"classify", &"--res", &"32", &"-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The header only: the decoder fails inside it, with a message of its own.
    child.stdin.take().unwrap().write_all(&jpeg[..300]).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let said = stderr(&out);
    let error = said
        .lines()
        .find(|l| l.contains("cannot decode"))
        .unwrap_or_default();
    assert!(error.starts_with("error: -: "), "{said}");
    assert!(
        error.ends_with("expected a complete JPEG or PNG file"),
        "{said}"
    );
}
