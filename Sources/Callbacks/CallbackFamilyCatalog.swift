// What each callback family is, without an image: the descriptors (FamilyDescriptor.all) as
// `callbacks --family list` prints them, with the bundled builds whose profile holds a head, and the
// README's family table.

import Symbols

/// Every family, in the scanner's report order.
public enum CallbackFamilyCatalog {
  public static var all: [FamilyDescriptor] { FamilyDescriptor.all }

  /// The descriptor of `id`.
  public static func descriptor(_ id: String) -> FamilyDescriptor? { FamilyDescriptor.named(id) }

  /// The README's family table (Markdown): id, what, registered by, heads.
  public static func markdownTable() -> String {
    var lines = ["| family | what | registered by | heads |", "|---|---|---|---|"]
    for f in all {
      let heads = f.heads.map { "`\($0.displayName)`" }.joined(separator: ", ")
      lines.append("| `\(f.id)` | \(f.title) | \(f.registration) | \(heads) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// How many of one build's bundled profiles hold a family's head.
public struct FamilyBuildCoverage: Sendable, Hashable {
  /// The build number (third part of the kernel's version, 19041).
  public let build: Int
  /// Bundled profiles of that build naming a head.
  public let present: Int
  /// Bundled profiles of that build.
  public let profiles: Int
}

extension CallbackFamilyCatalog {
  /// Per family id, the builds of `bundle` whose profiles name one of its heads (ascending build;
  /// builds where no profile does are left out). A build whose profile cannot be read is an error.
  public static func coverage(in bundle: BundledProfiles) throws(SymbolsError) -> [String: [FamilyBuildCoverage]] {
    var counts: [String: [Int: Int]] = [:]
    var profilesPerBuild: [Int: Int] = [:]
    for build in bundle.builds {
      guard let number = build.version.flatMap(KernelVersion.init)?.build else {
        throw .io(path: bundle.path, message: "bundled build \(build.identity) has no kernel version")
      }
      guard let profile = try bundle.profile(for: build.identity) else {
        throw .io(path: bundle.path, message: "bundled build \(build.identity) is listed but has no profile")
      }
      profilesPerBuild[number, default: 0] += 1
      for family in all where family.isPresent(in: profile) { counts[family.id, default: [:]][number, default: 0] += 1 }
    }
    // Every build counted in `counts` was counted in `profilesPerBuild` first.
    return counts.mapValues { perBuild in
      perBuild.sorted { $0.key < $1.key }.compactMap { build, present in
        profilesPerBuild[build].map { FamilyBuildCoverage(build: build, present: present, profiles: $0) }
      }
    }
  }
}
