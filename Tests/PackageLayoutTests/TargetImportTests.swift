// Package.swift's dependencies against the `import` lines of every target: a library target
// depends on exactly the project modules it imports (so the layering DESIGN.md draws is the one the
// build enforces), a test target on at least those it imports.

import Foundation
import TestData
import Testing

struct TargetImportTests {
  struct Target {
    var name: String
    var kind: String
    var path: String
    var dependencies: Set<String>
  }

  /// The targets declared in Package.swift (name, kind, folder, dependency module names).
  static func targets() throws -> [Target] {
    let text = try String(contentsOf: TestData.packageRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
    var found: [Target] = []
    for kind in ["target", "executableTarget", "testTarget", "systemLibrary"] {
      var rest = Substring(text)
      while let start = rest.range(of: ".\(kind)(") {
        // The call's text up to its balancing parenthesis.
        var depth = 0
        var end = start.upperBound
        var index = rest.index(before: start.upperBound)
        while index < rest.endIndex {
          if rest[index] == "(" { depth += 1 }
          if rest[index] == ")" {
            depth -= 1
            if depth == 0 {
              end = index
              break
            }
          }
          index = rest.index(after: index)
        }
        let call = String(rest[start.upperBound..<end])
        rest = rest[end...]
        guard let name = Self.firstMatch(#"name:\s*"([^"]+)""#, in: call) else { continue }
        var dependencies: Set<String> = []
        if let list = Self.firstMatch(#"dependencies:\s*\[([^\]]*)\]"#, in: call) {
          for product in Self.allMatches(#"\.product\(name:\s*"([^"]+)""#, in: list) { dependencies.insert(product) }
          let withoutProducts = list.replacingOccurrences(
            of: #"\.product\([^)]*\)"#, with: "", options: .regularExpression)
          for plain in Self.allMatches(#""([^"]+)""#, in: withoutProducts) { dependencies.insert(plain) }
        }
        let folder = kind == "testTarget" ? "Tests" : "Sources"
        let path = Self.firstMatch(#"path:\s*"([^"]+)""#, in: call) ?? "\(folder)/\(name)"
        found.append(Target(name: name, kind: kind, path: path, dependencies: dependencies))
      }
    }
    return found
  }

  static func firstMatch(_ pattern: String, in text: String) -> String? { allMatches(pattern, in: text).first }

  static func allMatches(_ pattern: String, in text: String) -> [String] {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return [] }
    let range = NSRange(text.startIndex..., in: text)
    return regex.matches(in: text, range: range).compactMap { m in
      Range(m.range(at: 1), in: text).map { String(text[$0]) }
    }
  }

  /// The modules a folder's Swift files import.
  static func imports(under path: String) throws -> Set<String> {
    let root = TestData.packageRoot.appendingPathComponent(path)
    var modules: Set<String> = []
    guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil) else { return [] }
    for case let url as URL in walker where url.pathExtension == "swift" {
      let text = try String(contentsOf: url, encoding: .utf8)
      for line in text.split(separator: "\n") {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        let words = trimmed.split(separator: " ")
        guard let i = words.firstIndex(of: "import"), i <= 1, i + 1 < words.count else { continue }
        if i == 1 && !words[0].hasPrefix("@") { continue }
        modules.insert(String(words[i + 1]))
      }
    }
    return modules
  }

  @Test func everyTargetDependsOnWhatItImports() throws {
    let targets = try Self.targets()
    #expect(targets.count >= 15)
    let projectModules = Set(targets.map(\.name)).union(["ArgumentParser", "Benchmark"])
    for target in targets where target.kind != "systemLibrary" {
      let imported = try Self.imports(under: target.path).intersection(projectModules).subtracting([target.name])
      if target.kind == "testTarget" {
        #expect(
          imported.isSubset(of: target.dependencies),
          "\(target.name) imports \(imported.subtracting(target.dependencies).sorted()) undeclared")
      } else {
        #expect(
          imported == target.dependencies,
          "\(target.name): imports not declared \(imported.subtracting(target.dependencies).sorted()), declared not imported \(target.dependencies.subtracting(imported).sorted())"
        )
      }
    }
  }

  /// The released binary must not contain the test-support builder (issue 17): only the demo-image
  /// writer, tests and benchmarks link it, and nothing `callscope` depends on imports it.
  @Test func theReleasedBinaryDoesNotContainTheBuilder() throws {
    let targets = try Self.targets()
    let byName = Dictionary(targets.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    var reached: Set<String> = []
    var pending = ["callscope"]
    while let next = pending.popLast() {
      guard reached.insert(next).inserted, let target = byName[next] else { continue }
      pending.append(contentsOf: target.dependencies)
    }
    #expect(reached.contains("Reports"), "the walk reached callscope's libraries: \(reached.sorted())")
    #expect(!reached.contains("ImageBuilder"), "callscope reaches ImageBuilder through \(reached.sorted())")
    #expect(byName["callscope-demo-image"]?.dependencies.contains("ImageBuilder") == true)
  }
}
