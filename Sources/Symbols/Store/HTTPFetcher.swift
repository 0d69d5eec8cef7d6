// Blocking HTTP(S) GET for symbol-server downloads: a timeout, a bounded number of redirects
// (followed by hand so each hop is counted), a cap on the body size, and a check that the body is
// as long as the server said (truncated transfers are errors, never cached).

import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// Fetches one URL synchronously.
public struct HTTPFetcher: Sendable {
  /// Seconds without progress before a request fails.
  public var timeout: TimeInterval
  /// Redirects followed before giving up.
  public var maximumRedirects: Int
  /// The largest body accepted.
  public var maximumBytes: Int

  public init(timeout: TimeInterval = 60, maximumRedirects: Int = 5, maximumBytes: Int = 1 << 30) {
    self.timeout = timeout
    self.maximumRedirects = maximumRedirects
    self.maximumBytes = maximumBytes
  }

  /// The result of one request.
  public struct Response: Sendable {
    public var status: Int
    public var body: Data
    public var finalURL: String
  }

  /// GETs `url`, following up to `maximumRedirects` redirects. Non-2xx final answers are returned
  /// with their status; transport failures and truncated bodies throw.
  public func get(_ url: String) throws(SymbolsError) -> Response {
    var current = url
    for _ in 0...maximumRedirects {
      let (status, body, location) = try once(current)
      if (300..<400).contains(status), let location {
        guard let next = URL(string: location, relativeTo: URL(string: current))?.absoluteString,
          SymbolPath.isURL(next)
        else { throw .network(url: current, message: "redirect to an unusable location `\(location)`") }
        current = next
        continue
      }
      return Response(status: status, body: body, finalURL: current)
    }
    throw .network(url: url, message: "more than \(maximumRedirects) redirects")
  }

  private func once(_ url: String) throws(SymbolsError) -> (Int, Data, String?) {
    guard let u = URL(string: url), SymbolPath.isURL(url) else {
      throw .network(url: url, message: "not an http(s) URL")
    }
    var request = URLRequest(url: u, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
    request.setValue("Microsoft-Symbol-Server/10.0.0.0", forHTTPHeaderField: "User-Agent")
    let box = ResultBox()
    let config = URLSessionConfiguration.ephemeral
    config.timeoutIntervalForRequest = timeout
    config.timeoutIntervalForResource = max(timeout * 20, 600)
    let session = URLSession(configuration: config, delegate: NoRedirects(), delegateQueue: nil)
    defer { session.finishTasksAndInvalidate() }
    let task = session.dataTask(with: request) { data, response, error in
      box.set(data, response, error)
    }
    task.resume()
    box.wait()
    let (data, response, error) = box.get()
    if let error { throw .network(url: url, message: error.localizedDescription) }
    guard let http = response as? HTTPURLResponse else { throw .network(url: url, message: "no HTTP response") }
    let body = data ?? Data()
    guard body.count <= maximumBytes else {
      throw .tooLarge(file: url, what: "download", limit: UInt64(maximumBytes))
    }
    let expected = http.expectedContentLength
    if (200..<300).contains(http.statusCode), expected >= 0, Int64(body.count) != expected {
      throw .network(url: url, message: "truncated body: \(body.count) of \(expected) bytes")
    }
    return (http.statusCode, body, http.value(forHTTPHeaderField: "Location"))
  }
}

/// Hands the redirect response back instead of following it.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
  func urlSession(
    _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void
  ) {
    completionHandler(nil)
  }
}

/// The completion handler's results, handed to the waiting thread.
private final class ResultBox: @unchecked Sendable {
  // @unchecked: every access goes through `lock`; `done` is signalled once.
  private let lock = NSLock()
  private let done = DispatchSemaphore(value: 0)
  private var data: Data?
  private var response: URLResponse?
  private var error: (any Error)?

  func set(_ d: Data?, _ r: URLResponse?, _ e: (any Error)?) {
    lock.lock()
    data = d
    response = r
    error = e
    lock.unlock()
    done.signal()
  }
  func wait() { done.wait() }
  func get() -> (Data?, URLResponse?, (any Error)?) {
    lock.lock()
    defer { lock.unlock() }
    return (data, response, error)
  }
}
