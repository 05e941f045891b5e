//! Which requests are traced: the standard `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` rules, applied by the
//! service itself before a request's span is made (see [`super::traces`] for why), with the same meaning as the
//! OpenTelemetry SDK gives them. Unset, the rule is `parentbased_traceidratio` at [`DEFAULT_SAMPLE_RATIO`].

use opentelemetry::trace::TraceId;

use super::traces::DEFAULT_SAMPLE_RATIO;

/// The rule for a request, given the caller's trace (its id and whether the caller samples it), if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HeadSampler {
    /// Follow the caller's decision when there is a caller (the `parentbased_*` rules).
    parent_based: bool,
    /// The share of the remaining requests traced: 1 for `always_on`, 0 for `always_off`.
    ratio: f64,
}

const VALUES: &str = "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, \
                      parentbased_traceidratio";

impl HeadSampler {
    /// The rule the environment names; `Err` says what is wrong with `OTEL_TRACES_SAMPLER(_ARG)`.
    pub fn from_env() -> Result<Self, String> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.trim().is_empty());
        Self::parse(
            var("OTEL_TRACES_SAMPLER").as_deref(),
            var("OTEL_TRACES_SAMPLER_ARG").as_deref(),
        )
    }

    fn parse(sampler: Option<&str>, argument: Option<&str>) -> Result<Self, String> {
        let Some(sampler) = sampler else {
            return Ok(Self {
                parent_based: true,
                ratio: DEFAULT_SAMPLE_RATIO,
            });
        };
        // The specification's default argument for the ratio rules is 1 (everything).
        let ratio = || match argument {
            None => Ok(1.0),
            Some(text) => text
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|ratio| (0.0..=1.0).contains(ratio))
                .ok_or_else(|| format!("OTEL_TRACES_SAMPLER_ARG={text:?} is not a ratio between 0 and 1")),
        };
        let (parent_based, ratio) = match sampler.trim() {
            "always_on" => (false, 1.0),
            "always_off" => (false, 0.0),
            "traceidratio" => (false, ratio()?),
            "parentbased_always_on" => (true, 1.0),
            "parentbased_always_off" => (true, 0.0),
            "parentbased_traceidratio" => (true, ratio()?),
            other => return Err(format!("OTEL_TRACES_SAMPLER={other:?} is not one of {VALUES}")),
        };
        Ok(Self { parent_based, ratio })
    }

    /// Whether to trace a request whose caller's trace is `caller` (its id, and whether the caller samples it).
    /// `random` draws in [0, 1) for a request that starts a trace; a caller's trace id decides by the SDK's
    /// trace-id-ratio rule, so every service that applies the same ratio to a trace agrees.
    pub fn decide(&self, caller: Option<(TraceId, bool)>, random: impl FnOnce() -> f64) -> bool {
        match caller {
            Some((_, sampled)) if self.parent_based => sampled,
            _ if self.ratio >= 1.0 => true,
            _ if self.ratio <= 0.0 => false,
            Some((trace_id, _)) => {
                let bound = (self.ratio * (1u64 << 63) as f64) as u64;
                let from_id = (u128::from_be_bytes(trace_id.to_bytes()) as u64) >> 1;
                from_id < bound
            }
            None => random() < self.ratio,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: TraceId = TraceId::from_bytes([0x4b; 16]);

    fn parsed(sampler: Option<&str>, argument: Option<&str>) -> HeadSampler {
        HeadSampler::parse(sampler, argument).unwrap()
    }

    #[test]
    fn unset_means_five_percent_of_new_traces_and_every_sampled_caller() {
        let sampler = parsed(None, None);
        assert!(sampler.decide(None, || 0.049));
        assert!(!sampler.decide(None, || 0.05));
        assert!(sampler.decide(Some((TRACE, true)), || 0.99));
        assert!(!sampler.decide(Some((TRACE, false)), || 0.0));
    }

    #[test]
    fn the_standard_rules_mean_what_the_specification_says() {
        let on = parsed(Some("always_on"), None);
        assert!(on.decide(None, || 0.99) && on.decide(Some((TRACE, false)), || 0.99));
        let off = parsed(Some("always_off"), None);
        assert!(!off.decide(None, || 0.0) && !off.decide(Some((TRACE, true)), || 0.0));
        let parent_on = parsed(Some("parentbased_always_on"), None);
        assert!(parent_on.decide(None, || 0.99) && !parent_on.decide(Some((TRACE, false)), || 0.0));
        let parent_off = parsed(Some("parentbased_always_off"), None);
        assert!(!parent_off.decide(None, || 0.0) && parent_off.decide(Some((TRACE, true)), || 0.99));
        assert_eq!(parsed(Some("traceidratio"), None), on, "the argument defaults to 1");
        let quarter = parsed(Some("parentbased_traceidratio"), Some("0.25"));
        assert!(quarter.decide(None, || 0.2) && !quarter.decide(None, || 0.3));
    }

    #[test]
    fn a_callers_trace_id_decides_as_the_sdk_does_when_not_following_the_caller() {
        let half = parsed(Some("traceidratio"), Some("0.5"));
        let low = TraceId::from_bytes([0; 16]);
        let high = TraceId::from_bytes([0xff; 16]);
        assert!(half.decide(Some((low, false)), || 0.99));
        assert!(!half.decide(Some((high, true)), || 0.0));
    }

    #[test]
    fn unknown_rules_and_bad_ratios_are_refused_naming_what_works() {
        let error = HeadSampler::parse(Some("xray"), None).unwrap_err();
        assert!(
            error.contains("\"xray\"") && error.contains("parentbased_traceidratio"),
            "{error}"
        );
        for bad in ["2", "-0.1", "half"] {
            let error = HeadSampler::parse(Some("traceidratio"), Some(bad)).unwrap_err();
            assert!(error.contains("between 0 and 1"), "{error}");
        }
    }
}
