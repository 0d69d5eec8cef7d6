// A struct that contains itself by value — directly, through an array, or through other structs —
// has no finite size: no compiler emits one, so an ISF file with such a cycle is corrupt (pointers
// to the same type are normal and are not followed). Checked once when the file is read, so no
// later walk of the types can loop on it.

/// Finds containment cycles among an ISF file's user types.
enum ISFTypeCycles {
  /// The user types a field's type embeds by value (arrays unwrapped, pointers not followed).
  static func embedded(_ type: FieldType) -> String? {
    var t = type
    // Arrays nest at most maximumTypeDepth deep (the parser's bound).
    for _ in 0..<ISFParser.maximumTypeDepth {
      switch t {
      case .array(let of, _): t = of
      case .structure(let name): return name
      default: return nil
      }
    }
    return nil
  }

  /// Throws for the first cycle found, naming its path (`_A.b → _B.a → _A`).
  static func check(_ structs: [String: ISFStruct], file: String) throws(SymbolsError) {
    enum Mark { case open, done }
    var marks: [String: Mark] = [:]
    // Sorted for a deterministic path in the message: only the few fields that embed a struct, not
    // every field of every struct (that sort was half of this check's time on ntkrnlmp's ISF).
    func edges(_ name: String) -> [(field: String, target: String)] {
      (structs[name]?.fields ?? [:]).compactMap { field, info in
        embedded(info.type).flatMap { structs[$0] == nil ? nil : (field: field, target: $0) }
      }.sorted { $0.field < $1.field }
    }
    /// A type on the search path, the edges still to follow, and the field followed last.
    struct Frame {
      var type: String
      var edges: [(field: String, target: String)]
      var via = ""
    }
    for root in structs.keys.sorted() where marks[root] == nil {
      // Iterative depth-first search: the path is the stack, so a deep chain cannot overflow it.
      var stack = [Frame(type: root, edges: edges(root))]
      marks[root] = .open
      while let top = stack.last {
        guard let edge = top.edges.first else {
          marks[top.type] = .done
          stack.removeLast()
          continue
        }
        stack[stack.count - 1].edges.removeFirst()
        stack[stack.count - 1].via = edge.field
        switch marks[edge.target] {
        case .done: continue
        case .open:
          let start = stack.firstIndex { $0.type == edge.target } ?? 0
          let path = stack[start...].map { "\($0.type).\($0.via)" } + [edge.target]
          throw .invalidISF(
            file: file, offset: 0,
            message: "type cycle: \(path.joined(separator: " → ")) (a struct cannot contain itself by value)")
        case nil:
          marks[edge.target] = .open
          stack.append(Frame(type: edge.target, edges: edges(edge.target)))
        }
      }
    }
  }
}
