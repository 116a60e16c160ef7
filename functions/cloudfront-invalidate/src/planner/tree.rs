//! The directory tree of a deploy's changed paths and the dynamic program over it that
//! chooses the wildcards (see [`super`] for the rules it follows), and the site's files
//! counted per directory.

use std::collections::BTreeMap;

/// The site's files (inventory plus changed paths), sorted so that the files under a
/// directory form one range.
pub(super) struct Site<'a> {
    /// Borrowed, not copied: an inventory holds every file of the site (100,000 and more).
    files: Vec<&'a str>,
    pub(super) total: usize,
}

impl<'a> Site<'a> {
    pub(super) fn new(inventory: &'a [String], changed: &[&'a str]) -> Self {
        let mut files: Vec<&str> = inventory
            .iter()
            .map(String::as_str)
            .chain(changed.iter().copied())
            .collect();
        // Equal paths are the same text, so an unstable sort dedups to the same list.
        files.sort_unstable();
        files.dedup();
        let total = files.len();
        Self { files, total }
    }

    pub(super) fn under(&self, dir: &str) -> usize {
        let start = self.files.partition_point(|f| *f < dir);
        let end = start + self.files[start..].partition_point(|f| f.starts_with(dir));
        end - start
    }
}

/// The directory tree of the changed paths.
pub(super) struct Tree {
    nodes: Vec<Node>,
}

struct Node {
    /// The directory, ending in `/`.
    dir: String,
    /// Changed paths directly in this directory (its own path `/dir/` included).
    files: usize,
    /// Changed paths anywhere under it.
    under: usize,
    children: BTreeMap<String, usize>,
}

impl Tree {
    pub(super) fn build(changed: &[&str]) -> Self {
        let mut nodes = vec![Node {
            dir: "/".to_string(),
            files: 0,
            under: 0,
            children: BTreeMap::new(),
        }];
        for path in changed {
            let dir_end = path.rfind('/').map(|i| i + 1).unwrap_or(1);
            let dir = &path[..dir_end];
            let mut node = 0;
            nodes[0].under += 1;
            // Walk "/a/b/" as "a/", "b/".
            let mut start = 1;
            while start < dir.len() {
                let end = dir[start..]
                    .find('/')
                    .map(|i| start + i + 1)
                    .unwrap_or(dir.len());
                let segment = &dir[start..end];
                let next = match nodes[node].children.get(segment) {
                    Some(&n) => n,
                    None => {
                        let n = nodes.len();
                        nodes.push(Node {
                            dir: dir[..end].to_string(),
                            files: 0,
                            under: 0,
                            children: BTreeMap::new(),
                        });
                        nodes[node].children.insert(segment.to_string(), n);
                        n
                    }
                };
                node = next;
                nodes[node].under += 1;
                start = end;
            }
            nodes[node].files += 1;
        }
        Self { nodes }
    }

    /// The directories to turn into wildcards: the fewest billed paths using at most
    /// `budget` wildcards, and among those the fewest wildcards.
    pub(super) fn cover(
        &self,
        budget: usize,
        admissible: &dyn Fn(&str, usize) -> bool,
    ) -> Vec<String> {
        if budget == 0 || self.nodes[0].under == 0 {
            return Vec::new();
        }
        let k = budget;
        // best[n][j]: fewest billed paths under node n with at most j wildcards.
        let mut best: Vec<Vec<usize>> = vec![Vec::new(); self.nodes.len()];
        let mut allowed: Vec<bool> = vec![false; self.nodes.len()];
        // Children always have higher indices than their parent: fill in reverse.
        for n in (0..self.nodes.len()).rev() {
            let node = &self.nodes[n];
            let merged = self.merge_children(n, &best, k);
            let mut row = merged
                .last()
                .cloned()
                .unwrap_or_else(|| vec![node.files; k + 1]);
            allowed[n] = node.under >= 2 && admissible(&node.dir, node.under);
            if allowed[n] {
                for cell in row.iter_mut().skip(1) {
                    *cell = (*cell).min(1);
                }
            }
            best[n] = row;
        }
        let target = best[0][k];
        let used = (0..=k).find(|&j| best[0][j] == target).unwrap_or(k);
        let mut chosen = Vec::new();
        self.reconstruct(0, used, &best, &allowed, &mut chosen);
        chosen
    }

    /// The running minimum over the children: `merged[i][j]` covers the node's own files
    /// and its first `i + 1` children with at most `j` wildcards.
    fn merge_children(&self, n: usize, best: &[Vec<usize>], k: usize) -> Vec<Vec<usize>> {
        let node = &self.nodes[n];
        let mut acc = vec![node.files; k + 1];
        let mut steps = Vec::with_capacity(node.children.len());
        for &c in node.children.values() {
            let child = &best[c];
            let mut next = vec![usize::MAX; k + 1];
            for (j, cell) in next.iter_mut().enumerate() {
                for split in 0..=j {
                    let v = acc[j - split].saturating_add(child[split]);
                    if v < *cell {
                        *cell = v;
                    }
                }
            }
            steps.push(next.clone());
            acc = next;
        }
        steps
    }

    fn reconstruct(
        &self,
        n: usize,
        j: usize,
        best: &[Vec<usize>],
        allowed: &[bool],
        chosen: &mut Vec<String>,
    ) {
        let node = &self.nodes[n];
        let merged = self.merge_children(n, best, best[n].len() - 1);
        let without = merged.last().map(|row| row[j]).unwrap_or(node.files);
        if j >= 1 && allowed[n] && 1 < without {
            chosen.push(node.dir.clone());
            return;
        }
        // Split j among the children, last child first.
        let children: Vec<usize> = node.children.values().copied().collect();
        let mut left = j;
        for i in (0..children.len()).rev() {
            let want = merged[i][left];
            let before = |budget: usize| {
                if i == 0 {
                    node.files
                } else {
                    merged[i - 1][budget]
                }
            };
            let child = &best[children[i]];
            // The smallest share for this child that still reaches the optimum.
            let split = (0..=left)
                .find(|&s| before(left - s).saturating_add(child[s]) == want)
                .unwrap_or(0);
            self.reconstruct(children[i], split, best, allowed, chosen);
            left -= split;
        }
    }
}
