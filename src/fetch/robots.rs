//! robots.txt rules (RFC 9309) for one product token: group selection (our token, else `*`),
//! longest-match Allow/Disallow with `*` and `$`, and the `Crawl-delay` extension.

use std::time::Duration;

/// One Allow/Disallow line of the selected group, its path pattern normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// `true` for Allow.
    pub(crate) allow: bool,
    /// The normalized pattern (`*` any run of octets, a final `$` anchors the end).
    pub(crate) pattern: String,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let key = if self.allow { "Allow" } else { "Disallow" };
        write!(f, "{key}: {}", self.pattern)
    }
}

/// The rules that apply to us on one scheme+host+port.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RobotsRules {
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

/// Rules collected from the groups naming one user agent.
#[derive(Default)]
struct Collected {
    matched: bool,
    rules: Vec<Rule>,
    crawl_delay: Option<Duration>,
}

impl RobotsRules {
    /// No rules: everything is allowed (robots.txt missing, 4xx).
    pub(crate) fn allow_all() -> RobotsRules {
        RobotsRules::default()
    }

    /// Parses `text` for `token` (case-insensitive), falling back to the `*` groups.
    pub(crate) fn parse(text: &str, token: &str) -> RobotsRules {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let (mut ours, mut star) = (Collected::default(), Collected::default());
        // Which of the two the current group feeds; a group is its run of user-agent lines.
        let (mut for_ours, mut for_star, mut in_agents) = (false, false, false);
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim().to_ascii_lowercase(), value.trim());
            if key == "user-agent" {
                if !in_agents {
                    (for_ours, for_star, in_agents) = (false, false, true);
                }
                let name = agent_token(value);
                if name == "*" {
                    for_star = true;
                } else if !name.is_empty() && name.eq_ignore_ascii_case(token) {
                    for_ours = true;
                }
                ours.matched |= for_ours;
                star.matched |= for_star;
                continue;
            }
            if !matches!(key.as_str(), "allow" | "disallow" | "crawl-delay") {
                // Sitemap and unknown lines neither end a run of user-agent lines nor belong to it.
                continue;
            }
            in_agents = false;
            let targets = [(for_ours, &mut ours), (for_star, &mut star)];
            for (_, group) in targets.into_iter().filter(|(on, _)| *on) {
                match key.as_str() {
                    "allow" | "disallow" if !value.is_empty() => group.rules.push(Rule {
                        allow: key == "allow",
                        pattern: normalize(value),
                    }),
                    "crawl-delay" => {
                        let secs = value.parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0);
                        if let (None, Some(secs)) = (group.crawl_delay, secs) {
                            group.crawl_delay = Some(Duration::from_secs_f64(secs.min(86_400.0)));
                        }
                    }
                    _ => {}
                }
            }
        }
        let chosen = if ours.matched { ours } else { star };
        RobotsRules {
            rules: chosen.rules,
            crawl_delay: chosen.crawl_delay,
        }
    }

    /// The `Crawl-delay` of the selected group, if any.
    pub(crate) fn crawl_delay(&self) -> Option<Duration> {
        self.crawl_delay
    }

    /// The Disallow rule that forbids `path` (path and query), or `None` when it is allowed.
    pub(crate) fn disallowing(&self, path: &str) -> Option<&Rule> {
        if path == "/robots.txt" {
            return None;
        }
        let path = normalize(path);
        let mut best: Option<&Rule> = None;
        for rule in self.rules.iter().filter(|r| matches(&r.pattern, &path)) {
            // The longest pattern wins; on a tie Allow (the least restrictive) wins.
            let better = match best {
                None => true,
                Some(b) => {
                    rule.pattern.len() > b.pattern.len() || (rule.pattern.len() == b.pattern.len() && rule.allow)
                }
            };
            if better {
                best = Some(rule);
            }
        }
        best.filter(|r| !r.allow)
    }
}

/// The product token we match: `domaind` from `domaind/0.1.0 (+https://…)`.
pub(crate) fn product_token(user_agent: &str) -> String {
    agent_token(user_agent)
}

/// The leading `[A-Za-z_-]` run of a user-agent value, or `*`.
fn agent_token(value: &str) -> String {
    if value.starts_with('*') {
        return "*".to_string();
    }
    value
        .chars()
        .take_while(|c| c.is_ascii_alphabetic() || *c == '_' || *c == '-')
        .collect()
}

/// RFC 9309 §2.2.2: non-ASCII octets percent-encoded, `%XX` of unreserved characters decoded,
/// other escapes upper-cased, so that patterns and paths compare octet by octet.
fn normalize(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = String::with_capacity(raw.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let hex = |j: usize| bytes.get(j).and_then(|c| (*c as char).to_digit(16));
        if b == b'%' {
            if let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) {
                let c = (hi * 16 + lo) as u8;
                if c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~') {
                    out.push(c as char);
                } else {
                    out.push_str(&format!("%{c:02X}"));
                }
                i += 3;
                continue;
            }
        }
        if b.is_ascii() && !b.is_ascii_control() && b != b' ' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

/// Whether `pattern` matches a prefix of `path` (all of it when the pattern ends with `$`).
fn matches(pattern: &str, path: &str) -> bool {
    let (pattern, anchored) = match pattern.strip_suffix('$') {
        Some(p) => (p.as_bytes(), true),
        None => (pattern.as_bytes(), false),
    };
    let path = path.as_bytes();
    // Greedy wildcard matching with backtracking to the last `*`: O(pattern × path) at worst.
    let (mut p, mut s) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    loop {
        if p == pattern.len() && (!anchored || s == path.len()) {
            return true;
        }
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, s));
            p += 1;
        } else if p < pattern.len() && s < path.len() && pattern[p] == path[s] {
            p += 1;
            s += 1;
        } else if let Some((sp, ss)) = star.filter(|(_, ss)| *ss < path.len()) {
            star = Some((sp, ss + 1));
            (p, s) = (sp + 1, ss + 1);
        } else {
            return false;
        }
    }
}

#[cfg(test)]
#[path = "robots_tests.rs"]
mod tests;
