//! What the requests ask for: the default workload (each target text alone: the article's URLs)
//! or the options workload (each target with each of [`OPTION_SETS`]), as the queries oha sends
//! and as the calls the core and the call timers make.

use std::fmt;

use qr_core::{Engine, OptionName, Options, QrError};
use qr_harness::http::percent_encode;
use serde::{Serialize, Serializer};

/// Some of the contract's options, as a request gives them: each parameter's name and its value
/// before percent-encoding.
pub type OptionSet = &'static [(OptionName, &'static str)];

/// The options workload's option sets, each sent with every target text: one option of each
/// kind the contract has, then brand colours on a thin margin, and one request asking for most
/// of them at once (its `#` travels as `%23`).
pub const OPTION_SETS: [OptionSet; 6] = [
    &[(OptionName::Format, "svg")],
    &[(OptionName::EcLevel, "H")],
    &[(OptionName::Size, "300")],
    &[
        (OptionName::Margin, "1"),
        (OptionName::Dark, "0b3d91"),
        (OptionName::Light, "f5f5dc"),
    ],
    &[(OptionName::Light, "ffffff00")],
    &[
        (OptionName::Format, "svg"),
        (OptionName::Size, "300"),
        (OptionName::EcLevel, "Q"),
        (OptionName::Dark, "#0b3d91"),
        (OptionName::Light, "ffffff00"),
    ],
];

/// The requests of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Workload {
    /// Each target text alone, `/qrcode?text=T`: the article's requests.
    #[default]
    Default,
    /// Each target text with each of the option sets (format=svg; ecLevel=H; size=300;
    /// margin=1&dark=0b3d91&light=f5f5dc; light=ffffff00; and most of them at once).
    Options,
}

impl Workload {
    /// Every workload, the default first.
    pub const ALL: [Workload; 2] = [Workload::Default, Workload::Options];

    /// The name `--workload` takes, and results.json's and calls.json's `workload`.
    pub fn name(self) -> &'static str {
        match self {
            Workload::Default => "default",
            Workload::Options => "options",
        }
    }

    /// The option sets each target is sent with: one empty set for the default workload.
    pub fn option_sets(self) -> &'static [OptionSet] {
        match self {
            Workload::Default => &[&[]],
            Workload::Options => &OPTION_SETS,
        }
    }

    /// Each request's query (what follows `?`), percent-encoded: every target with each option
    /// set in turn. The default workload's are `text=T` alone.
    pub fn queries(self, targets: &[String]) -> Vec<String> {
        targets
            .iter()
            .flat_map(|text| {
                self.option_sets().iter().map(move |set| {
                    let mut query = format!("text={}", percent_encode(text.as_bytes()));
                    for (option, value) in *set {
                        query.push_str(&format!("&{option}={}", percent_encode(value.as_bytes())));
                    }
                    query
                })
            })
            .collect()
    }

    /// Each request as the core is called for it with `engine`, in [`Workload::queries`]' order:
    /// the text and its options, set by the contract's rules ([`Options::set`]).
    pub fn calls(
        self,
        targets: &[String],
        engine: Engine,
    ) -> Result<Vec<(String, Options)>, QrError> {
        let mut calls = Vec::new();
        for text in targets {
            for set in self.option_sets() {
                let mut options = Options::with_engine(engine);
                for (option, value) in *set {
                    options.set(*option, value.as_bytes())?;
                }
                calls.push((text.clone(), options));
            }
        }
        Ok(calls)
    }

    /// The option sets as people read them: `format=svg`, ... (empty for the default workload).
    pub fn option_set_labels(self) -> Vec<String> {
        self.option_sets()
            .iter()
            .filter(|set| !set.is_empty())
            .map(|set| {
                set.iter()
                    .map(|(option, value)| format!("{option}={value}"))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .collect()
    }
}

impl fmt::Display for Workload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Its name.
impl Serialize for Workload {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use qr_core::Format;

    use super::*;

    /// The benchmark's default targets, contract/article-texts.txt.
    fn targets() -> Vec<String> {
        let path = qr_harness::repo_root().join("contract/article-texts.txt");
        crate::runner::read_targets(&path).unwrap()
    }

    #[test]
    fn the_default_workload_is_each_text_alone() {
        let texts = vec!["x&y".to_owned(), "a b".to_owned()];
        assert_eq!(
            Workload::Default.queries(&texts),
            ["text=x%26y", "text=a%20b"]
        );
        let calls = Workload::Default.calls(&texts, Engine::Fast).unwrap();
        assert_eq!(
            calls[1],
            ("a b".to_owned(), Options::with_engine(Engine::Fast))
        );
        assert!(Workload::Default.option_set_labels().is_empty());
    }

    #[test]
    fn the_options_workload_sends_every_set_with_every_text() {
        let texts = vec!["hello".to_owned(), "x&y".to_owned()];
        let queries = Workload::Options.queries(&texts);
        assert_eq!(queries.len(), 2 * OPTION_SETS.len());
        assert_eq!(queries[0], "text=hello&format=svg");
        assert_eq!(
            queries[OPTION_SETS.len() - 1],
            "text=hello&format=svg&size=300&ecLevel=Q&dark=%230b3d91&light=ffffff00"
        );
        assert!(queries[OPTION_SETS.len()].starts_with("text=x%26y&"));
        let labels = Workload::Options.option_set_labels();
        assert_eq!(labels[3], "margin=1&dark=0b3d91&light=f5f5dc");
        let calls = Workload::Options.calls(&texts, Engine::Article).unwrap();
        assert_eq!(calls.len(), queries.len());
        let (text, last) = &calls[OPTION_SETS.len() - 1];
        assert_eq!(text, "hello");
        assert_eq!(
            (last.format, last.size, last.light.to_string()),
            (Format::Svg, Some(300), "ffffff00".to_owned())
        );
        assert_eq!(last.engine, Engine::Article);
    }

    #[test]
    fn every_request_of_every_workload_is_an_image_with_both_engines() {
        for workload in Workload::ALL {
            for &engine in Engine::ALL {
                for (text, options) in workload.calls(&targets(), engine).unwrap() {
                    let image = qr_core::generate(&text, &options)
                        .unwrap_or_else(|e| panic!("{workload} {text} {options:?}: {e}"));
                    let want: &[u8] = match options.format {
                        Format::Png => b"\x89PNG",
                        Format::Svg => b"<svg",
                    };
                    assert!(image.starts_with(want), "{workload} {text} {options:?}");
                }
            }
        }
    }
}
