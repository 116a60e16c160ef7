//! Which functions a request may name: those whose name starts with the tuner's prefix.

use crate::input::TuneRequest;
use crate::{Config, Error};

/// Refuses a request naming a function outside the tuner's prefix: the target and the
/// pre- and post-processors alike, since all three are invoked. Checked before anything
/// is read or changed, so a refused request costs nothing.
pub fn check_allowed(req: &TuneRequest, config: &Config) -> Result<(), Error> {
    let Some(prefix) = &config.function_prefix else {
        return Ok(());
    };
    let named = [
        ("lambdaARN", Some(req.lambda_arn.as_str())),
        ("preProcessorARN", req.pre_processor_arn.as_deref()),
        ("postProcessorARN", req.post_processor_arn.as_deref()),
    ];
    for (field, arn) in named {
        let Some(arn) = arn else { continue };
        let name = arn.rsplit(':').next().unwrap_or(arn);
        if !name.starts_with(prefix.as_str()) {
            return Err(Error::NotAllowed(format!(
                "{field}: this tuner may only invoke functions whose name starts with {prefix:?}"
            )));
        }
    }
    Ok(())
}
