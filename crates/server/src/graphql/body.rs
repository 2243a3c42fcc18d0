//! A JSON response body made of byte chunks that are written out as they are: the database's
//! result (the driver's receive buffer), graft's own `{"data":` and `}` around it, a cached
//! introspection answer. Nothing is concatenated, so a 100 MB result is held once, and the
//! exact length still goes in `Content-Length`.

use axum::body::Bytes;
use http_body::{Frame, SizeHint};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

#[derive(Debug, Default)]
pub(crate) struct JsonBody {
    chunks: VecDeque<Bytes>,
    len: u64,
}

impl JsonBody {
    /// `{"data":<data>}` around the database's JSON.
    pub(crate) fn data(data: Bytes) -> Self {
        let mut body = JsonBody::default();
        body.push(Bytes::from_static(b"{\"data\":"));
        body.push(data);
        body.push(Bytes::from_static(b"}"));
        body
    }

    /// `[a,b,...]`: the answers of a batched request, in order.
    pub(crate) fn array(parts: Vec<JsonBody>) -> Self {
        let mut body = JsonBody::default();
        body.push(Bytes::from_static(b"["));
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                body.push(Bytes::from_static(b","));
            }
            body.len += part.len;
            body.chunks.extend(part.chunks);
        }
        body.push(Bytes::from_static(b"]"));
        body
    }

    fn push(&mut self, chunk: Bytes) {
        self.len += chunk.len() as u64;
        self.chunks.push_back(chunk);
    }

    /// The whole text, for a WebSocket message (which is one frame anyway).
    pub(crate) fn into_string(self) -> String {
        let mut bytes = Vec::with_capacity(usize::try_from(self.len).unwrap_or(0));
        for chunk in self.chunks {
            bytes.extend_from_slice(&chunk);
        }
        // Every chunk is JSON text: graft's own or the database's (valid UTF-8 by protocol).
        String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into())
    }
}

impl From<String> for JsonBody {
    fn from(text: String) -> Self {
        let mut body = JsonBody::default();
        body.push(Bytes::from(text));
        body
    }
}

impl From<Bytes> for JsonBody {
    fn from(bytes: Bytes) -> Self {
        let mut body = JsonBody::default();
        body.push(bytes);
        body
    }
}

impl http_body::Body for JsonBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        match this.chunks.pop_front() {
            Some(chunk) => {
                this.len -= chunk.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
            None => Poll::Ready(None),
        }
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_make_the_json_they_describe() {
        let one = JsonBody::data(Bytes::from_static(b"{\"a\":1}"));
        let two = JsonBody::from("{\"errors\":[]}".to_string());
        let batch = JsonBody::array(vec![one, two]);
        let expected = "[{\"data\":{\"a\":1}},{\"errors\":[]}]";
        assert_eq!(
            http_body::Body::size_hint(&batch).exact(),
            Some(expected.len() as u64)
        );
        assert_eq!(batch.into_string(), expected);
    }
}
