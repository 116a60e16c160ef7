//! The CloudFormation custom-resource responder: a response on every path.
//!
//! CloudFormation waits (by default an hour) for a custom resource to PUT its answer to the
//! presigned `ResponseURL`. [`respond_always`] parses the event with the
//! `aws_lambda_events` request types, runs the handler under the invocation deadline (less
//! a reserve kept for the answer), catches a handler panic, and always PUTs SUCCESS or
//! FAILED (empty content type, body within [`MAX_BODY_BYTES`], `Reason` and `Data` cut to
//! fit on character boundaries).
//!
//! What Lambda is told (it retries a failed asynchronous invocation twice):
//! - the answer was delivered, whatever its status: `Ok` (a retry would act again);
//! - the event could not be parsed (nothing was acted on): FAILED is PUT when a
//!   `ResponseURL` can be read at all, then `Err` naming what was wrong (a retry only PUTs
//!   the same FAILED again);
//! - the answer could not be delivered: `Err`, so that Lambda's retry gets another chance.
//!
//! A Create that fails gets a physical id minted by [`failed_create_id`]; when
//! CloudFormation then sends the rollback Delete for it, [`respond_always`] answers
//! SUCCESS without calling the handler (there is nothing to delete). A handler that is about
//! to act claims its physical id first ([`Claim`], through [`respond_always_claiming`]): a
//! Create that then runs out of time or panics is answered FAILED with the claimed id, so
//! that the rollback Delete reaches the handler and undoes what was done.
//!
//! The module's parts, one job each: [`event`] the request types and the fields every
//! request carries; [`ids`] physical ids, the claim and the `ResponseURL`'s check;
//! [`outcome`] what a handler answers and what was answered; [`respond`] the responder;
//! [`response`] the body cut to CloudFormation's limit and its PUT.

mod event;
mod ids;
mod outcome;
mod respond;
mod response;

pub use event::{
    looks_like_custom_resource, request_type, CreateRequest, DeleteRequest, Request, Response,
    Status, UpdateRequest,
};
pub use ids::{
    failed_create_id, is_failed_create_id, Claim, FAILED_CREATE_PREFIX, MAX_PHYSICAL_ID_BYTES,
};
pub use outcome::{Answered, CustomResourceError, Failure, Outcome, ResponderSettings};
pub use respond::{respond_always, respond_always_claiming};
pub use response::{fit_body, MAX_BODY_BYTES};

#[cfg(test)]
mod tests;
