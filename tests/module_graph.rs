//! The top-level modules of `src/` depend on each other one way only: no two reach into each
//! other, directly or round a longer loop. Lower layers (domain, error, crypto, config, db,
//! context, ui) never name a feature (auth, setup, booking, instagram, dashboard), features
//! never name `server` or `app`, and so on. Read from the source: every `crate::<module>`
//! path in a module's files counts as a dependency.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules and the files of each.
fn modules(src: &Path) -> BTreeMap<String, Vec<std::path::PathBuf>> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "main" || name == "lib" {
            continue;
        }
        let mut files = vec![];
        collect(&path, &mut files);
        modules.insert(name, files);
    }
    modules
}

fn collect(path: &Path, files: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), files);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        files.push(path.to_owned());
    }
}

fn dependencies(
    modules: &BTreeMap<String, Vec<std::path::PathBuf>>,
) -> BTreeMap<String, BTreeSet<String>> {
    modules
        .iter()
        .map(|(name, files)| {
            let mut uses = BTreeSet::new();
            for file in files {
                let text = std::fs::read_to_string(file).unwrap();
                for (at, _) in text.match_indices("crate::") {
                    let rest = &text[at + "crate::".len()..];
                    let used: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if modules.contains_key(&used) && used != *name {
                        uses.insert(used);
                    }
                }
            }
            (name.clone(), uses)
        })
        .collect()
}

/// A dependency loop, if there is one: the modules round it.
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in &graph[node] {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut vec![], &mut done))
}

#[test]
fn no_two_top_level_modules_depend_on_each_other() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = dependencies(&modules(&src));
    assert!(graph.len() >= 12, "{graph:?}");
    assert_eq!(
        a_cycle(&graph),
        None,
        "dependency loop; the whole graph: {graph:#?}"
    );
}

#[test]
fn the_cycle_finder_finds_a_loop() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(a_cycle(&graph).unwrap(), ["a", "b", "c", "a"]);
}
