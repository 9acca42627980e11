//! Push approval with a device key (work in progress).
#![forbid(unsafe_code)]
