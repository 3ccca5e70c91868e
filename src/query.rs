//! The run filter's grammar, one for `runyard ls --where`, `compare
//! --where` and the explorer's `/`: conditions on flattened config keys
//! (`optim.lr>=1e-4`, `model.name=resnet`, `seed!=0`), `status:failed`,
//! `tag:foo`, and whatever else is typed, kept as plain text for the
//! caller's fuzzy match. Numbers compare as numbers, so `1e-4` is `0.0001`.

/// How a condition compares a run's value with the one written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>=`
    Ge,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `<`
    Lt,
}

/// One `key OP value` condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Cond {
    /// The flattened key (`optim.lr`), or a metric name.
    pub key: String,
    /// The comparison.
    pub op: Op,
    /// The value written after the operator.
    pub value: String,
}

/// One structured term of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    /// A condition on a config key (or a metric).
    Cond(Cond),
    /// `status:WORD`: the run's status word (finished, failed, running...).
    Status(String),
    /// `tag:WORD`: the tag of the run's id (`..._seed42` has tag `seed42`).
    Tag(String),
}

/// A parsed filter: its structured terms (all must hold) and the rest of
/// the text, for the caller's fuzzy match on names and notes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    /// Conditions, all of which must hold.
    pub terms: Vec<Term>,
    /// The words that are not terms, joined by single spaces.
    pub text: String,
}

/// A run's metric value by name.
pub type MetricOf<'a> = dyn Fn(&str) -> Option<f64> + 'a;

/// What is known of a run when a query is checked against it.
#[derive(Default)]
pub struct Facts<'a> {
    /// The status word (`finished`, `failed`, `running`...), if known.
    pub status: Option<&'a str>,
    /// The tag of the run id, if it has one.
    pub tag: Option<&'a str>,
    /// Flattened config leaves; `None` while not loaded yet.
    pub config: Option<&'a [(String, String)]>,
    /// A metric's value by name (a scalar, or a curve's last value).
    pub metric: Option<&'a MetricOf<'a>>,
}

/// Whether a run meets a query's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every term holds.
    Yes,
    /// Some term fails.
    No,
    /// No term fails, but a config condition waits for the run's config.
    Pending,
}

/// The operators, longest first so that `>=` is not read as `>`.
const OPS: [(&str, Op); 6] = [
    ("!=", Op::Ne),
    (">=", Op::Ge),
    ("<=", Op::Le),
    ("=", Op::Eq),
    (">", Op::Gt),
    ("<", Op::Lt),
];

/// Parses one `KEY OP VALUE` condition (`optim.lr>=1e-4`); a leading
/// `cfg.` or `config.` is dropped. Errors say what to write.
pub fn parse_condition(s: &str) -> Result<Cond, String> {
    // The first operator character splits key from value, so that a value
    // holding `=` (a path, an override) stays whole.
    let at = s.find(['=', '!', '<', '>']).ok_or_else(|| {
        format!("{s:?}: write KEY=VALUE, KEY!=VALUE, KEY>=N, KEY<N ... (e.g. optim.lr>=1e-4)")
    })?;
    let (key, rest) = s.split_at(at);
    let (op, value) = OPS
        .iter()
        .find_map(|(text, op)| rest.strip_prefix(text).map(|v| (*op, v)))
        .ok_or_else(|| format!("{s:?}: {rest:?} is not one of = != >= > <= <"))?;
    let key = key.trim();
    let key = key
        .strip_prefix("cfg.")
        .or_else(|| key.strip_prefix("config."))
        .unwrap_or(key);
    if key.is_empty() {
        return Err(format!("{s:?}: the key before {rest:?} is missing"));
    }
    let value = value.trim();
    if value.is_empty() && op != Op::Eq && op != Op::Ne {
        return Err(format!("{s:?}: the number after the operator is missing"));
    }
    Ok(Cond {
        key: key.to_string(),
        op,
        value: unquote(value).to_string(),
    })
}

/// `"a b"` and `'a b'` mean `a b`.
fn unquote(v: &str) -> &str {
    for q in ['"', '\''] {
        if let Some(inner) = v.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    v
}

/// Parses a filter line: words with an operator, `status:` or `tag:` are
/// terms, the rest is text. A word that looks like a condition but is
/// broken (`lr>=`) is an error, not silently text.
pub fn parse(input: &str) -> Result<Query, String> {
    let mut q = Query::default();
    let mut text: Vec<&str> = Vec::new();
    for word in input.split_whitespace() {
        q.push_word(word, &mut text)?;
    }
    q.text = text.join(" ");
    Ok(q)
}

/// Parses a filter line as it is being typed: a word that is not yet a
/// whole condition (`lr>=`) is left out rather than refused, and returned
/// with why, so the filter does not blank while the user types.
pub fn parse_lenient(input: &str) -> (Query, Vec<String>) {
    let mut q = Query::default();
    let mut text: Vec<&str> = Vec::new();
    let mut broken = Vec::new();
    for word in input.split_whitespace() {
        if let Err(e) = q.push_word(word, &mut text) {
            broken.push(e);
        }
    }
    q.text = text.join(" ");
    (q, broken)
}

/// Parses every `--where` value into one query; a value may hold several
/// terms separated by spaces, and holds no free text.
pub fn parse_all<S: AsRef<str>>(wheres: &[S]) -> Result<Query, String> {
    let mut q = Query::default();
    for w in wheres {
        let one = parse(w.as_ref())?;
        if !one.text.is_empty() {
            return Err(format!(
                "--where {:?}: {:?} is not a condition; write KEY=VALUE, KEY>=N, status:WORD or tag:WORD",
                w.as_ref(),
                one.text
            ));
        }
        q.terms.extend(one.terms);
    }
    Ok(q)
}

impl Query {
    fn push_word<'a>(&mut self, word: &'a str, text: &mut Vec<&'a str>) -> Result<(), String> {
        if let Some(s) = word.strip_prefix("status:") {
            self.terms.push(Term::Status(s.to_ascii_lowercase()));
        } else if let Some(t) = word.strip_prefix("tag:") {
            self.terms.push(Term::Tag(t.to_string()));
        } else if word.contains(['=', '<', '>']) {
            self.terms.push(Term::Cond(parse_condition(word)?));
        } else {
            text.push(word);
        }
        Ok(())
    }

    /// True when the query has no structured term.
    pub fn is_plain(&self) -> bool {
        self.terms.is_empty()
    }

    /// True when some term needs the run's config.
    pub fn needs_config(&self) -> bool {
        self.terms.iter().any(|t| matches!(t, Term::Cond(_)))
    }

    /// Checks the structured terms (not the text) against a run.
    pub fn check(&self, facts: &Facts) -> Verdict {
        let mut pending = false;
        for term in &self.terms {
            let ok = match term {
                Term::Status(s) => facts.status.is_some_and(|w| w.eq_ignore_ascii_case(s)),
                Term::Tag(t) => facts.tag.is_some_and(|w| w == t),
                Term::Cond(c) => {
                    let metric = facts.metric.and_then(|m| m(&c.key));
                    match facts.config {
                        Some(config) => match lookup(config, &c.key) {
                            Some(values) => values.iter().any(|v| c.holds(Some(v))),
                            None => c.holds(metric.map(|m| m.to_string()).as_deref()),
                        },
                        // A metric answers without the config.
                        None if metric.is_some() => {
                            c.holds(metric.map(|m| m.to_string()).as_deref())
                        }
                        None => {
                            pending = true;
                            true
                        }
                    }
                }
            };
            if !ok {
                return Verdict::No;
            }
        }
        if pending {
            Verdict::Pending
        } else {
            Verdict::Yes
        }
    }
}

/// The config values `key` names: the leaf of that exact flattened key;
/// else the leaves whose key ends in `.key` (`lr` finds `optim.lr`).
/// `None` when no leaf matches.
fn lookup<'a>(config: &'a [(String, String)], key: &str) -> Option<Vec<&'a str>> {
    if let Some((_, v)) = config.iter().find(|(k, _)| k == key) {
        return Some(vec![v.as_str()]);
    }
    let found: Vec<&str> = config
        .iter()
        .filter(|(k, _)| k.strip_suffix(key).is_some_and(|head| head.ends_with('.')))
        .map(|(_, v)| v.as_str())
        .collect();
    (!found.is_empty()).then_some(found)
}

impl Cond {
    /// Whether a run's value (`None`: the run has no such key) meets the
    /// condition. Both numbers: compared as numbers; otherwise `=`/`!=`
    /// compare text and an order holds for no text. A missing value is
    /// `!=` anything and meets nothing else.
    pub fn holds(&self, value: Option<&str>) -> bool {
        let Some(v) = value else {
            return self.op == Op::Ne;
        };
        let v = unquote(v.trim());
        match (v.parse::<f64>(), self.value.parse::<f64>()) {
            (Ok(x), Ok(y)) => match self.op {
                Op::Eq => x == y,
                Op::Ne => x != y,
                Op::Ge => x >= y,
                Op::Gt => x > y,
                Op::Le => x <= y,
                Op::Lt => x < y,
            },
            _ => match self.op {
                Op::Eq => v == self.value,
                Op::Ne => v != self.value,
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn check(q: &str, facts: &Facts) -> Verdict {
        parse(q).unwrap().check(facts)
    }

    #[test]
    fn conditions_parse_with_every_operator_and_keep_the_rest_as_text() {
        let q = parse("resnet optim.lr>=1e-4 status:Failed tag:seed1 cfg.seed!=3 fast").unwrap();
        assert_eq!(q.text, "resnet fast");
        assert_eq!(
            q.terms,
            vec![
                Term::Cond(Cond {
                    key: "optim.lr".into(),
                    op: Op::Ge,
                    value: "1e-4".into()
                }),
                Term::Status("failed".into()),
                Term::Tag("seed1".into()),
                Term::Cond(Cond {
                    key: "seed".into(),
                    op: Op::Ne,
                    value: "3".into()
                }),
            ]
        );
        for (s, op) in [
            ("a<1", Op::Lt),
            ("a<=1", Op::Le),
            ("a>1", Op::Gt),
            ("a=1", Op::Eq),
        ] {
            assert_eq!(parse_condition(s).unwrap().op, op, "{s}");
        }
        // A value holding `=` stays whole.
        assert_eq!(parse_condition("cmd=a=b").unwrap().value, "a=b");
    }

    #[test]
    fn broken_conditions_are_errors_naming_them() {
        assert!(parse("lr>=").unwrap_err().contains("lr>="));
        assert!(parse(">=3").unwrap_err().contains("key"));
        assert!(parse_all(&["lr=1", "plain"]).unwrap_err().contains("plain"));
        // While typing, a half-written condition is left out, not an error.
        let (q, broken) = parse_lenient("resnet lr>= status:failed");
        assert_eq!(q.text, "resnet");
        assert_eq!(q.terms, vec![Term::Status("failed".into())]);
        assert_eq!(broken.len(), 1);
    }

    #[test]
    fn numbers_compare_as_numbers_and_text_as_text() {
        let c = cfg(&[
            ("optim.lr", "0.0001"),
            ("model.name", "resnet"),
            ("seed", "42"),
        ]);
        let f = Facts {
            config: Some(&c),
            ..Facts::default()
        };
        assert_eq!(check("optim.lr=1e-4", &f), Verdict::Yes);
        assert_eq!(check("optim.lr>=1e-4", &f), Verdict::Yes);
        assert_eq!(check("optim.lr>1e-4", &f), Verdict::No);
        assert_eq!(check("optim.lr<1e-3", &f), Verdict::Yes);
        assert_eq!(check("seed<=41", &f), Verdict::No);
        assert_eq!(check("model.name=resnet", &f), Verdict::Yes);
        assert_eq!(check("model.name!=resnet", &f), Verdict::No);
        assert_eq!(check("model.name>=a", &f), Verdict::No);
        // A short key finds the leaf it ends (`lr` is `optim.lr`), not a
        // key it is only the end of a word of.
        assert_eq!(check("lr=0.0001", &f), Verdict::Yes);
        assert_eq!(check("name=resnet", &f), Verdict::Yes);
        assert_eq!(check("ame=resnet", &f), Verdict::No);
        // A key the run lacks differs from any value and meets nothing else.
        assert_eq!(check("dropout!=0.1", &f), Verdict::Yes);
        assert_eq!(check("dropout=0.1", &f), Verdict::No);
        assert_eq!(check("dropout<1", &f), Verdict::No);
    }

    #[test]
    fn status_tag_metrics_and_pending_configs() {
        let metric = |n: &str| (n == "val/acc").then_some(0.91);
        let f = Facts {
            status: Some("failed"),
            tag: Some("seed1"),
            config: None,
            metric: Some(&metric),
        };
        assert_eq!(check("status:failed tag:seed1", &f), Verdict::Yes);
        assert_eq!(check("status:finished", &f), Verdict::No);
        assert_eq!(check("tag:seed2", &f), Verdict::No);
        assert_eq!(check("val/acc>=0.9", &f), Verdict::Yes);
        assert_eq!(check("val/acc>0.95", &f), Verdict::No);
        // A config condition waits for the config, unless another term fails.
        assert_eq!(check("lr>=1e-4", &f), Verdict::Pending);
        assert_eq!(check("lr>=1e-4 status:finished", &f), Verdict::No);
        assert!(parse("resnet").unwrap().is_plain());
        assert!(parse("lr=1").unwrap().needs_config());
        assert!(!parse("status:failed").unwrap().needs_config());
    }
}
