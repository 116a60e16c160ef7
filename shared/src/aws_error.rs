//! One classification of AWS errors for every function: which operation failed, the
//! service's error code and message, the HTTP status, and whether trying again can help.
//!
//! The SDK has already retried an error by the time we see it (standard mode, see
//! [`crate::aws`]); what is classified here is what is left, so that a caller retrying
//! within the invocation deadline ([`crate::retry`]) or handing work on knows which
//! failures are worth waiting out. The rules follow the SDK's own retry classifiers:
//! the throttling and transient codes of `aws_runtime` (reused, not copied), the
//! transient HTTP statuses of `aws_smithy_runtime` (500, 502, 503, 504) plus 429, and
//! timeouts, I/O failures and unparseable responses as transient. On top come the codes
//! that mean "busy, try later" in the services groundcrew calls ([`DOMAIN_TRANSIENT_ERRORS`]).

use std::time::Duration;

use aws_runtime::retries::classifiers::{THROTTLING_ERRORS, TRANSIENT_ERRORS};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::retry::ErrorKind;

use crate::retry::{RetryAdvice, Transient};

/// Codes that mean "busy or failing inside AWS, try again later" in the services the
/// functions call, beyond the SDK's generic lists.
pub const DOMAIN_TRANSIENT_ERRORS: &[&str] = &[
    // CloudFront: more than the allowed invalidations (3,000 paths / 15 wildcards) are
    // in progress; they complete within minutes.
    "TooManyInvalidationsInProgress",
    // Lambda: an update of the function is still in progress (`LastUpdateStatus`
    // InProgress); the next update is accepted once it completes.
    "ResourceConflictException",
    // Application Auto Scaling: an update of the same scalable target is pending.
    "ConcurrentUpdateException",
    // DynamoDB: a write conflicts with a transaction in progress on the same item.
    "TransactionConflictException",
    // Service-side failures, spelled per service (5xx answers, classified by status
    // too, but a fake or a re-wrapped error may carry only the code).
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalError",
    "InternalFailure",
    "InternalErrorException",
    "InternalServerError",
    "InternalServiceError",
    "InternalServiceFault",
    "ServiceException",
];

/// HTTP statuses the SDK treats as transient (`aws_smithy_runtime`'s
/// `HttpStatusCodeClassifier`; its list is private, so it is restated here).
const TRANSIENT_STATUS_CODES: &[u16] = &[500, 502, 503, 504];

/// Whether trying again can help.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The service asked us to slow down (a throttling code or HTTP 429).
    Throttled,
    /// A timeout, a lost connection, a 5xx answer or a "busy" code: the same request
    /// may succeed later. The operation may or may not have taken effect.
    Transient,
    /// The request itself was refused or could not be built: retrying cannot help.
    Permanent,
}

impl Fault {
    /// The classification of a service error code, when the code says anything.
    pub fn of_code(code: &str) -> Option<Fault> {
        if THROTTLING_ERRORS.contains(&code) {
            Some(Fault::Throttled)
        } else if TRANSIENT_ERRORS.contains(&code) || DOMAIN_TRANSIENT_ERRORS.contains(&code) {
            Some(Fault::Transient)
        } else {
            None
        }
    }

    /// The classification of an HTTP status, when the status says anything.
    pub fn of_status(status: u16) -> Option<Fault> {
        if status == 429 {
            Some(Fault::Throttled)
        } else if TRANSIENT_STATUS_CODES.contains(&status) {
            Some(Fault::Transient)
        } else {
            None
        }
    }

    pub fn is_transient(self) -> bool {
        self != Fault::Permanent
    }
}

/// An AWS call that failed, with what the service said.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{operation} failed: {}", self.detail())]
pub struct AwsError {
    /// The API operation (`CreateInvalidation`, `StopDBCluster`, ...).
    pub operation: &'static str,
    /// The service's error code (`TooManyInvalidationsInProgress`, `Throttling`, ...);
    /// `None` for failures without an answer (timeouts, connection errors).
    pub code: Option<String>,
    /// The service's message, or the whole chain of causes when there was no answer.
    pub message: String,
    /// The HTTP status of the answer, when there was one.
    pub status: Option<u16>,
    pub fault: Fault,
    /// The delay the service asked for (`x-amz-retry-after`, milliseconds).
    pub retry_after: Option<Duration>,
}

impl AwsError {
    /// A permanent error with only a message (fakes and simulation models build these;
    /// add a code with [`AwsError::with_code`]).
    pub fn new(operation: &'static str, message: impl Into<String>) -> Self {
        Self {
            operation,
            code: None,
            message: message.into(),
            status: None,
            fault: Fault::Permanent,
            retry_after: None,
        }
    }

    /// Sets the code, classifying the error by it when the code says anything.
    pub fn with_code(mut self, code: &str) -> Self {
        if let Some(fault) = Fault::of_code(code) {
            self.fault = fault;
        }
        self.code = Some(code.to_string());
        self
    }

    /// Sets the HTTP status, classifying the error by it when no code did.
    pub fn with_status(mut self, status: u16) -> Self {
        let by_code = self.code.as_deref().and_then(Fault::of_code);
        if let (None, Some(fault)) = (by_code, Fault::of_status(status)) {
            self.fault = fault;
        }
        self.status = Some(status);
        self
    }

    /// Overrides the classification where the caller knows better (a cancelled
    /// transaction whose reasons are only conflicts is transient, for example).
    pub fn with_fault(mut self, fault: Fault) -> Self {
        self.fault = fault;
        self
    }

    /// Classifies an SDK error of any operation.
    pub fn from_sdk<E>(operation: &'static str, err: &SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let status = err.raw_response().map(|r| r.status().as_u16());
        let retry_after = err
            .raw_response()
            .and_then(|r| r.headers().get("x-amz-retry-after"))
            .and_then(|ms| ms.trim().parse::<u64>().ok())
            .map(Duration::from_millis);
        let transport_fault = match err {
            SdkError::TimeoutError(_) | SdkError::ResponseError(_) => Fault::Transient,
            SdkError::DispatchFailure(failure) => {
                if failure.is_timeout() || failure.is_io() {
                    Fault::Transient
                } else {
                    match failure.as_other() {
                        Some(ErrorKind::ThrottlingError) => Fault::Throttled,
                        Some(ErrorKind::TransientError | ErrorKind::ServerError) => {
                            Fault::Transient
                        }
                        _ => Fault::Permanent,
                    }
                }
            }
            _ => Fault::Permanent,
        };
        let code = err.code();
        let fault = code
            .and_then(Fault::of_code)
            .or_else(|| status.and_then(Fault::of_status))
            .unwrap_or(transport_fault);
        // A service error is its code and message; anything else keeps its whole chain.
        let message = match (code, err.message()) {
            (Some(_), Some(message)) => message.to_string(),
            _ => crate::aws::describe_sdk_error(err),
        };
        Self {
            operation,
            code: code.map(str::to_string),
            message,
            status,
            fault,
            retry_after,
        }
    }

    /// Classifies an error known only by its metadata (an operation's error taken out of
    /// its `SdkError`): by code alone.
    pub fn from_metadata<E>(operation: &'static str, err: &E) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error,
    {
        let message = match err.message() {
            Some(message) => message.to_string(),
            None => crate::aws::describe_sdk_error(err),
        };
        let error = Self::new(operation, message);
        match err.code() {
            Some(code) => error.with_code(code),
            None => error,
        }
    }

    /// Whether the service answered with this code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    pub fn is_transient(&self) -> bool {
        self.fault.is_transient()
    }

    pub fn is_throttled(&self) -> bool {
        self.fault == Fault::Throttled
    }

    fn detail(&self) -> String {
        match (&self.code, self.status) {
            (Some(code), Some(status)) => format!("{code} (HTTP {status}): {}", self.message),
            (Some(code), None) => format!("{code}: {}", self.message),
            (None, _) => self.message.clone(),
        }
    }
}

impl Transient for AwsError {
    fn retry_advice(&self) -> RetryAdvice {
        match (self.fault, self.retry_after) {
            (Fault::Permanent, _) => RetryAdvice::Stop,
            (_, Some(delay)) => RetryAdvice::RetryAfter(delay),
            (_, None) => RetryAdvice::Retry,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::operation::get_parameter::GetParameterError;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_runtime_api::http::StatusCode;
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
    }

    fn service_error(code: &str, status: u16) -> SdkError<GetParameterError, HttpResponse> {
        let meta = ErrorMetadata::builder()
            .code(code)
            .message("what the service said")
            .build();
        SdkError::service_error(GetParameterError::generic(meta), response(status))
    }

    fn classify(err: &SdkError<GetParameterError, HttpResponse>) -> AwsError {
        AwsError::from_sdk("GetParameter", err)
    }

    #[test]
    fn the_sdks_throttling_codes_are_throttled() {
        for code in [
            "Throttling",
            "ThrottlingException",
            "TooManyRequestsException",
        ] {
            let e = classify(&service_error(code, 400));
            assert_eq!(e.fault, Fault::Throttled, "{code}");
            assert_eq!(e.retry_advice(), RetryAdvice::Retry, "{code}");
        }
        assert_eq!(
            classify(&service_error("RequestTimeout", 400)).fault,
            Fault::Transient
        );
    }

    #[test]
    fn domain_busy_codes_are_transient() {
        for code in [
            "TooManyInvalidationsInProgress",
            "ResourceConflictException",
            "ServiceUnavailable",
        ] {
            let e = classify(&service_error(code, 400));
            assert_eq!(e.fault, Fault::Transient, "{code}");
        }
    }

    #[test]
    fn refusals_are_permanent_and_keep_code_status_and_message() {
        let e = classify(&service_error("ParameterNotFound", 400));
        assert_eq!(e.fault, Fault::Permanent);
        assert_eq!(e.retry_advice(), RetryAdvice::Stop);
        assert!(e.is("ParameterNotFound"));
        assert_eq!(e.status, Some(400));
        assert_eq!(
            e.to_string(),
            "GetParameter failed: ParameterNotFound (HTTP 400): what the service said"
        );
    }

    #[test]
    fn status_5xx_and_429_classify_an_unknown_code() {
        assert_eq!(
            classify(&service_error("SomethingNew", 503)).fault,
            Fault::Transient
        );
        assert_eq!(
            classify(&service_error("SomethingNew", 429)).fault,
            Fault::Throttled
        );
        assert_eq!(
            classify(&service_error("SomethingNew", 501)).fault,
            Fault::Permanent
        );
        // A known refusal code wins over the status.
        assert_eq!(
            classify(&service_error("Throttling", 500)).fault,
            Fault::Throttled
        );
    }

    #[test]
    fn timeouts_io_failures_and_bad_responses_are_transient() {
        let timeout: SdkError<GetParameterError, HttpResponse> =
            SdkError::timeout_error("attempt timed out");
        let e = classify(&timeout);
        assert_eq!(e.fault, Fault::Transient);
        assert_eq!(e.code, None);
        assert!(e.message.contains("attempt timed out"), "{}", e.message);

        let io: SdkError<GetParameterError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::io("connection reset".into()));
        assert_eq!(classify(&io).fault, Fault::Transient);

        let garbled: SdkError<GetParameterError, HttpResponse> =
            SdkError::response_error("unexpected body", response(200));
        assert_eq!(classify(&garbled).fault, Fault::Transient);
    }

    #[test]
    fn user_and_construction_failures_are_permanent() {
        let user: SdkError<GetParameterError, HttpResponse> =
            SdkError::dispatch_failure(ConnectorError::user("bad endpoint".into()));
        assert_eq!(classify(&user).fault, Fault::Permanent);
        let built: SdkError<GetParameterError, HttpResponse> =
            SdkError::construction_failure("missing name");
        assert_eq!(classify(&built).fault, Fault::Permanent);
    }

    #[test]
    fn honours_the_services_retry_after() {
        let mut raw = response(400);
        raw.headers_mut().insert("x-amz-retry-after", "1500");
        let meta = ErrorMetadata::builder().code("ThrottlingException").build();
        let err = SdkError::service_error(GetParameterError::generic(meta), raw);
        let e = classify(&err);
        assert_eq!(
            e.retry_advice(),
            RetryAdvice::RetryAfter(Duration::from_millis(1500))
        );
    }

    #[test]
    fn fakes_classify_by_code_and_status_and_can_be_overridden() {
        let e = AwsError::new("CreateInvalidation", "x");
        assert_eq!(e.fault, Fault::Permanent);
        assert!(e
            .clone()
            .with_code("TooManyInvalidationsInProgress")
            .is_transient());
        assert!(e.clone().with_code("Throttling").is_throttled());
        assert!(!e.clone().with_code("NoSuchDistribution").is_transient());
        assert!(e.clone().with_status(502).is_transient());
        assert!(!e
            .clone()
            .with_code("NoSuchDistribution")
            .with_status(400)
            .is_transient());
        assert!(e.with_fault(Fault::Transient).is_transient());
    }

    #[test]
    fn from_metadata_classifies_by_code() {
        let meta = ErrorMetadata::builder()
            .code("ThrottlingException")
            .message("slow down")
            .build();
        let e = AwsError::from_metadata("GetParameter", &GetParameterError::generic(meta));
        assert!(e.is_throttled());
        assert_eq!(e.message, "slow down");
    }
}
