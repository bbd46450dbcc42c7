//! The files effnet writes never cost a user a file: devices and FIFOs written in place, two
//! runs to one output, an output that is an input, a failed or interrupted run, and a file's
//! mode (issue 26's table, rows 1, 2, 4, 6, 7 and 8). Each test makes its own folder.

mod common;

use common::{effnet_run as effnet, fresh_folder as folder, stderr_of as stderr};

use effnet::checkpoint::{StateDict, Tensor, load, save_safetensors};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn photo(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/images")
        .join(name)
}

const PHOTO: &str = "n07747607_orange.JPEG";
const BUNDLED: &str = "assets/models/tf_efficientnet_lite0.f16.safetensors";

fn spawn(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Child {
    common::effnet_command(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// A small valid safetensors file standing for a user's earlier result.
fn earlier_result(path: &Path) -> Vec<u8> {
    let mut sd = StateDict::default();
    let t = Tensor {
        shape: vec![2, 3],
        data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    };
    sd.tensors.insert("embeddings".into(), t);
    save_safetensors(path, &sd, &BTreeMap::new(), false).unwrap();
    std::fs::read(path).unwrap()
}

/// Gives a copy of a shared (read-only) photo its user's write permission, as a user's own
/// photo has: a read-only file is refused for another reason.
fn writable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

/// Temporary files effnet left in `dir`.
fn partials(dir: &Path) -> Vec<String> {
    (std::fs::read_dir(dir).unwrap().flatten())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect()
}

/// Waits (at most a minute) until a run has opened its temporary file in `dir`.
fn wait_for_partial(dir: &Path, child: &mut Child) {
    let start = Instant::now();
    while partials(dir).is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended first");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no temporary file"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Row 1: `-o` naming a FIFO (or a device) writes into it; before, the FIFO was replaced by
/// a regular file and its reader hung.
#[test]
fn a_fifo_output_is_written_in_place() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("fifo");
    let fifo = dir.join("pipe");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    let out = effnet(&[&"features", &photo(PHOTO), &"--res", &"32", &"-o", &fifo]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bytes = reader.join().unwrap();
    use std::os::unix::fs::FileTypeExt;
    let kind = std::fs::metadata(&fifo).unwrap().file_type();
    assert!(kind.is_fifo(), "the FIFO was replaced: {kind:?}");
    let copy = dir.join("copy.safetensors");
    std::fs::write(&copy, &bytes).unwrap();
    assert_eq!(load(&copy).unwrap().tensors["embeddings"].shape, [1, 1280]);
    assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
}

/// Row 2: a later run that fails must not break an earlier run's output. Before, all runs
/// shared one temporary name, which the later run's start-up check truncated and deleted.
#[test]
fn two_runs_to_one_output_never_leave_a_broken_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("concurrent");
    let out = dir.join("big.safetensors");
    let images: Vec<PathBuf> = (std::fs::read_dir(photo("")).unwrap().flatten())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "JPEG"))
        .collect();
    let mut args: Vec<&dyn AsRef<std::ffi::OsStr>> = vec![
        &"features",
        &"--stages",
        &"--res",
        &"64",
        &"-b",
        &"1",
        &"-o",
        &out,
    ];
    args.extend(images.iter().map(|p| p as &dyn AsRef<std::ffi::OsStr>));
    let mut first = spawn(&args);
    wait_for_partial(&dir, &mut first);
    let second = effnet(&[
        &"features",
        &dir.join("missing.jpg"),
        &"--res",
        &"64",
        &"-o",
        &out,
    ]);
    assert!(!second.status.success(), "the later run has no image");
    let first = first.wait_with_output().unwrap();
    if first.status.success() {
        let written = load(&out).unwrap_or_else(|e| panic!("exit 0 with a broken file: {e}"));
        let rows = written.tensors["embeddings"].shape[0];
        assert_eq!(rows, images.len(), "{}", stderr(&first));
    }
    assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
}

/// Row 4: an output that is one of the inputs is refused before any work, and so is an
/// existing file holding something else (a photo) unless `--force`.
#[test]
fn an_output_that_is_an_input_or_a_photo_is_refused() {
    let dir = folder("input");
    let victim = dir.join("victim.jpg");
    std::fs::copy(photo(PHOTO), &victim).unwrap();
    writable(&victim);
    let before = std::fs::read(&victim).unwrap();
    let out = effnet(&[&"features", &victim, &"--res", &"32", &"-o", &victim]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is also an input"),
        "{}",
        stderr(&out)
    );
    // Another spelling of the same file is the same file.
    let link = dir.join("link.jpg");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let out = effnet(&[&"convert", &BUNDLED, &link]);
    assert!(
        stderr(&out).contains("is not a safetensors file"),
        "{}",
        stderr(&out)
    );
    let out = effnet(&[&"features", &victim, &"--res", &"32", &"-o", &link]);
    assert!(
        stderr(&out).contains("is also an input"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read(&victim).unwrap(), before, "the photo changed");
    // `train` reads every image under DIR: none of them may be its output.
    let class = dir.join("data").join("oranges");
    for (name, cls) in [("a.jpg", "oranges"), ("b.jpg", "lemons")] {
        let class = dir.join("data").join(cls);
        std::fs::create_dir_all(&class).unwrap();
        std::fs::copy(photo(PHOTO), class.join(name)).unwrap();
    }
    let out = effnet(&[&"train", &dir.join("data"), &"-o", &class.join("a.jpg")]);
    assert!(
        stderr(&out).contains("is also an input"),
        "{}",
        stderr(&out)
    );
    // A photo under a safetensors name: refused, then replaced with --force.
    let named = dir.join("photo.safetensors");
    std::fs::copy(photo(PHOTO), &named).unwrap();
    writable(&named);
    let out = effnet(&[&"convert", &BUNDLED, &named]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.contains("looks like a JPEG image") && said.contains("--force"),
        "{said}"
    );
    let out = effnet(&[&"convert", &BUNDLED, &named, &"--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(load(&named).is_ok());
}

/// Row 6: a run where some images cannot be read writes nothing, so the earlier file stays
/// (its rows would not line up with the arguments); `--skip-unreadable` writes the others.
#[test]
fn a_run_with_unreadable_images_keeps_the_old_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("unreadable");
    let out = dir.join("existing.safetensors");
    let before = earlier_result(&out);
    let zero = dir.join("zero.jpg");
    std::fs::write(&zero, b"").unwrap();
    let args: [&dyn AsRef<std::ffi::OsStr>; 7] = [
        &"features",
        &photo(PHOTO),
        &zero,
        &"--res",
        &"32",
        &"-o",
        &out,
    ];
    let run = effnet(&args);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stderr(&run).contains("nothing written"), "{}", stderr(&run));
    assert_eq!(std::fs::read(&out).unwrap(), before, "the old file changed");
    let run = effnet(&[&args[..], &[&"--skip-unreadable"]].concat());
    assert!(run.status.success(), "{}", stderr(&run));
    let written = load(&out).unwrap();
    assert_eq!(written.tensors["embeddings"].shape, [1, 1280]);
    let files = &written.metadata["effnet.files"];
    assert!(
        files.contains(PHOTO) && !files.contains("zero.jpg"),
        "{files}"
    );
}

/// Row 7: SIGINT or SIGTERM while the output is open leaves no temporary file, and the old
/// file as it was; the run then dies of that signal.
#[test]
fn a_signal_mid_write_leaves_no_partial_file() {
    if common::gpu().is_none() {
        return;
    }
    let dir = folder("signal");
    let out = dir.join("out.safetensors");
    let before = earlier_result(&out);
    use std::os::unix::process::ExitStatusExt;
    for (signal, number) in [("INT", 2), ("TERM", 15)] {
        let mut run = spawn(&[&"features", &"--stages", &photo(PHOTO), &"-o", &out]);
        wait_for_partial(&dir, &mut run);
        let pid = run.id().to_string();
        let sent = Command::new("kill")
            .args([&format!("-{signal}"), &pid])
            .status();
        assert!(sent.unwrap().success());
        let status = run.wait().unwrap();
        // It dies of the signal, as it would have without the cleanup, so a shell loop stops.
        assert_eq!(status.signal(), Some(number), "SIG{signal}: {status:?}");
        assert!(
            partials(&dir).is_empty(),
            "SIG{signal}: {:?}",
            partials(&dir)
        );
        assert_eq!(
            std::fs::read(&out).unwrap(),
            before,
            "SIG{signal}: old file changed"
        );
    }
}

/// Row 8: a rewritten output keeps its permissions (a private file stays private).
#[test]
fn a_rewritten_output_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder("mode");
    let out = dir.join("private.safetensors");
    earlier_result(&out);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).unwrap();
    let run = effnet(&[&"convert", &BUNDLED, &out]);
    assert!(run.status.success(), "{}", stderr(&run));
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "mode {mode:o}");
    assert!(
        load(&out).unwrap().tensors.len() > 100,
        "the new file is the conversion"
    );
}

/// A read-only output is kept unless `--force`, as if its owner protected it; a dangling link
/// and a name ending in `/` are refused before the work.
#[test]
fn protected_and_odd_outputs_are_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder("protected");
    let out = dir.join("kept.safetensors");
    let before = earlier_result(&out);
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o444)).unwrap();
    let run = effnet(&[&"convert", &BUNDLED, &out]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    assert!(stderr(&run).contains("read-only"), "{}", stderr(&run));
    assert_eq!(std::fs::read(&out).unwrap(), before);
    let run = effnet(&[&"convert", &BUNDLED, &out, &"--force"]);
    assert!(run.status.success(), "{}", stderr(&run));
    let dangling = dir.join("dangling.safetensors");
    std::os::unix::fs::symlink(dir.join("nowhere"), &dangling).unwrap();
    let run = effnet(&[&"convert", &BUNDLED, &dangling]);
    assert!(
        stderr(&run).contains("symbolic link to nothing"),
        "{}",
        stderr(&run)
    );
    let slash = format!("{}/", dir.join("new.safetensors").display());
    let run = effnet(&[&"convert", &BUNDLED, &slash]);
    assert!(stderr(&run).contains("it is a folder"), "{}", stderr(&run));
    assert!(partials(&dir).is_empty(), "{:?}", partials(&dir));
}

/// Unwritable outputs fail before the work, `bench --trace` included (before, only after the
/// whole run, as "cannot read"). The unwritable path is made here: a file used as a folder.
#[test]
fn unwritable_outputs_fail_before_the_work() {
    let dir = folder("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let target = file.join("t.json");
    let run = effnet(&[&"bench", &"-m", &"tf_efficientnet_b0", &"--trace", &target]);
    assert_eq!(run.status.code(), Some(1), "{}", stderr(&run));
    let said = stderr(&run);
    assert!(
        said.contains("cannot write") && said.contains("t.json"),
        "{said}"
    );
    assert!(
        String::from_utf8_lossy(&run.stdout).is_empty(),
        "the bench ran first"
    );
    // An existing trace that is not JSON is not replaced without --force.
    let text = dir.join("notes.txt");
    std::fs::write(&text, b"my notes").unwrap();
    let run = effnet(&[&"bench", &"-m", &"tf_efficientnet_b0", &"--trace", &text]);
    assert!(
        stderr(&run).contains("is not a JSON file"),
        "{}",
        stderr(&run)
    );
    assert_eq!(std::fs::read(&text).unwrap(), b"my notes");
}
