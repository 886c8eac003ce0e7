import DqliteWire

/// A node role named in `.add` and `.assign`: DqliteWire's ``NodeRole``, the type the client uses too.
public typealias ShellNodeRole = NodeRole
