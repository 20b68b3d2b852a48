//! The Prometheus text exposition format, version 0.0.4: `# HELP` / `# TYPE` lines, then one
//! `name{label="value",...} value` line per series. Label values are escaped (`\\`, `\"`, `\n`).

use std::fmt::{Display, Write as _};

/// Something that can be written as one or more sample lines of one metric family.
pub trait Sample {
    /// The `# TYPE` of the family (`counter`, `gauge`, `histogram`).
    const TYPE: &'static str;

    /// True while nothing was recorded (labelled series are shown only once touched).
    fn is_untouched(&self) -> bool;

    /// Writes this series' lines.
    fn write(&self, out: &mut Exposition, name: &str, labels: &[(&str, &str)]);
}

/// A text exposition being built.
#[derive(Debug, Default)]
pub struct Exposition {
    text: String,
}

impl Exposition {
    /// An empty exposition.
    pub fn new() -> Exposition {
        Exposition::default()
    }

    /// Starts a metric family with its help text and type.
    pub fn header(&mut self, name: &str, help: &str, kind: &str) {
        let help = help.replace('\\', "\\\\").replace('\n', "\\n");
        let _ = writeln!(self.text, "# HELP {name} {help}");
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    /// Writes one sample line.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{k}=\"{}\"", escape_label_value(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// Writes a whole unlabelled family: header and its one series.
    pub fn single<S: Sample>(&mut self, name: &str, help: &str, metric: &S) {
        self.header(name, help, S::TYPE);
        metric.write(self, name, &[]);
    }

    /// The finished text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// Escapes a label value for the text format.
pub fn escape_label_value(v: &str) -> std::borrow::Cow<'_, str> {
    if !v.contains(['\\', '"', '\n']) {
        return v.into();
    }
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n").into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_render_with_escaped_labels() {
        let mut e = Exposition::new();
        e.header("x_total", "Things.\nMore", "counter");
        e.sample("x_total", &[("a", "b\"c"), ("d", "e\\f")], 3);
        e.sample("y", &[], 1.5);
        assert_eq!(
            e.finish(),
            "# HELP x_total Things.\\nMore\n# TYPE x_total counter\nx_total{a=\"b\\\"c\",d=\"e\\\\f\"} 3\ny 1.5\n"
        );
    }
}
