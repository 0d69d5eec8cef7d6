// Writes reports to files atomically (temporary file, then rename).

import Foundation

enum FileWriter {
  /// Writes `text` to `path`, replacing it atomically.
  static func write(_ text: String, to path: String) throws {
    try Data(text.utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
  }
}
