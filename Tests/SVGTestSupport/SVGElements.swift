import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// The elements of an SVG (any XML) document as Foundation's XMLParser
/// reads it: names and attributes in document order and all character
/// data. `parse` throws when the document is not well-formed XML.
public final class SVGElements: NSObject, XMLParserDelegate {
    public private(set) var names: [String] = []
    public private(set) var attributes: [[String: String]] = []
    public private(set) var text = ""
    /// Character data per element, in document order (for the text elements).
    public private(set) var texts: [String] = []
    private var open: [Int] = []

    public func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                       attributes: [String: String]) {
        names.append(name); self.attributes.append(attributes); texts.append("")
        open.append(names.count - 1)
    }

    public func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    public func parser(_ parser: XMLParser, foundCharacters string: String) {
        text += string
        if let last = open.last { texts[last] += string }
    }

    public static func parse(_ svg: String) throws -> SVGElements {
        let parser = XMLParser(data: Data(svg.utf8)), elements = SVGElements()
        parser.delegate = elements
        guard parser.parse() else {
            throw CocoaError(.fileReadCorruptFile, userInfo: ["error": String(describing: parser.parserError)])
        }
        return elements
    }

    /// How many elements are named `name` (with class `kind`, when given).
    public func count(_ name: String, class kind: String? = nil) -> Int {
        zip(names, attributes).filter { $0.0 == name && (kind == nil || $0.1["class"] == kind) }.count
    }

    /// The character data of the `text` elements with class `kind` (all when nil).
    public func textContents(class kind: String? = nil) -> [String] {
        names.indices.filter { names[$0] == "text" && (kind == nil || attributes[$0]["class"] == kind) }.map { texts[$0] }
    }
}
