//! The one Rust HTTP test client: blocking HTTP/1.1 over `TcpStream` that sends raw request
//! targets (any bytes, pipelined) and reads responses framed by Content-Length or chunked encoding.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long any read or write may block before the case fails (a hang is a failure).
pub const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The value of header `name` (case-insensitive); `None` if absent, all values joined by ", "
    /// if repeated.
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
}

/// Extra request headers, as (name, value).
pub type Headers = [(String, String)];

/// The bytes of a request with a raw `target` and `headers`; `Connection: close` if `close`, unless
/// `headers` hold a `Connection` header of their own (a case about that header).
pub fn request_bytes(
    method: &str,
    target: &str,
    headers: &Headers,
    addr: SocketAddr,
    close: bool,
) -> Vec<u8> {
    let mut request = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let own = headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("connection"));
    if close && !own {
        request.push_str("Connection: close\r\n");
    }
    if matches!(method, "POST" | "PUT" | "PATCH") {
        request.push_str("Content-Length: 0\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// Connects within [`IO_TIMEOUT`], with read and write timeouts set.
pub fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    // A server whose accept queue is full drops SYNs: without a bound, connect waits minutes.
    let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Sends one request on a fresh connection with `Connection: close`, reads the response, and
/// checks that the server sends nothing after it and closes the connection.
pub fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &Headers,
) -> io::Result<Response> {
    let mut stream = connect(addr)?;
    stream.write_all(&request_bytes(method, target, headers, addr, true))?;
    let mut reader = BufReader::new(stream);
    let response = read_response(&mut reader, method == "HEAD")?;
    let mut rest = Vec::new();
    match reader.read_to_end(&mut rest) {
        // A server that refuses a request it has not read to the end (a 431) may reset the
        // connection after answering: that is a close too.
        Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {}
        result => {
            result?;
        }
    }
    if !rest.is_empty() {
        return Err(io::Error::other(format!(
            "{} bytes after the response (status {}): {:?}",
            rest.len(),
            response.status,
            String::from_utf8_lossy(&rest[..rest.len().min(80)])
        )));
    }
    Ok(response)
}

/// Reads one response; `head` says the request was HEAD (so there is no body).
pub fn read_response(reader: &mut impl BufRead, head: bool) -> io::Result<Response> {
    let status_line = read_line(reader)?;
    let mut parts = status_line.splitn(3, ' ');
    let (version, code) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!("not an HTTP/1 status line: {status_line:?}")));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| bad(format!("bad status line {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    let mut response = Response {
        status,
        headers,
        body: Vec::new(),
    };
    if head || status / 100 == 1 || status == 204 || status == 304 {
        return Ok(response);
    }
    if response
        .header("transfer-encoding")
        .is_some_and(|te| te.eq_ignore_ascii_case("chunked"))
    {
        response.body = read_chunked(reader)?;
    } else if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(format!("bad content-length {length:?}")))?;
        response.body = vec![0; length];
        reader.read_exact(&mut response.body)?;
    } else {
        reader.read_to_end(&mut response.body)?;
    }
    Ok(response)
}

fn read_chunked(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = read_line(reader)?;
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| bad(format!("bad chunk size line {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line.
            while !read_line(reader)?.is_empty() {}
            return Ok(body);
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..])?;
        if !read_line(reader)?.is_empty() {
            return Err(bad("no CRLF after a chunk".to_owned()));
        }
    }
}

/// One CRLF-terminated line, without the CRLF.
fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!(
                "connection ended inside a line: {:?}",
                String::from_utf8_lossy(&line)
            ),
        ));
    }
    line.truncate(line.len() - 2);
    String::from_utf8(line).map_err(|e| bad(format!("a non-UTF-8 header line: {e}")))
}

fn bad(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A reader that returns at most `chunk` bytes per read and sleeps `pause` before each: a slow
/// client, so the server's writes back up while it still has requests to answer.
pub struct SlowReader<R> {
    pub inner: R,
    pub chunk: usize,
    pub pause: Duration,
}

impl<R: Read> Read for SlowReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::thread::sleep(self.pause);
        let n = buf.len().min(self.chunk);
        self.inner.read(&mut buf[..n])
    }
}

/// Percent-encodes every byte except the unreserved ones (`A-Z a-z 0-9 - . _ ~`), for a query
/// value that reaches the server as exactly these bytes.
pub fn percent_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
