namespace Rest.Onnx.Chat.Jinja;

/// <summary>A template node; <see cref="Line"/> is where it starts in the template source.</summary>
internal abstract record Node(int Line);

// Statements

internal sealed record TextNode(string Text, int Line) : Node(Line);

internal sealed record OutputNode(Expr Value, int Line) : Node(Line);

internal sealed record IfNode(Expr Test, List<Node> Body, List<Node> Else, int Line) : Node(Line);

internal sealed record ForNode(Expr Target, Expr Iterable, Expr? Filter, List<Node> Body, List<Node> Else, int Line) : Node(Line);

internal sealed record SetNode(Expr Target, Expr? Value, List<Node>? Body, int Line) : Node(Line);

internal sealed record BreakNode(int Line) : Node(Line);

internal sealed record ContinueNode(int Line) : Node(Line);

// Expressions

internal abstract record Expr(int Line) : Node(Line);

internal sealed record LiteralExpr(object? Value, int Line) : Expr(Line);

internal sealed record NameExpr(string Name, int Line) : Expr(Line);

internal sealed record ListExpr(List<Expr> Items, bool IsTuple, int Line) : Expr(Line);

internal sealed record DictExpr(List<(Expr Key, Expr Value)> Items, int Line) : Expr(Line);

internal sealed record AttributeExpr(Expr Target, string Name, int Line) : Expr(Line);

internal sealed record IndexExpr(Expr Target, Expr Index, int Line) : Expr(Line);

internal sealed record SliceExpr(Expr Target, Expr? Start, Expr? Stop, Expr? Step, int Line) : Expr(Line);

internal sealed record CallExpr(Expr Callee, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);

internal sealed record FilterExpr(Expr Target, string Name, List<Expr> Args, List<(string Name, Expr Value)> Kwargs, int Line) : Expr(Line);

internal sealed record TestExpr(Expr Target, string Name, List<Expr> Args, bool Negated, int Line) : Expr(Line);

internal sealed record UnaryExpr(string Op, Expr Operand, int Line) : Expr(Line);

internal sealed record BinaryExpr(string Op, Expr Left, Expr Right, int Line) : Expr(Line);

internal sealed record ConditionalExpr(Expr Test, Expr Then, Expr? Else, int Line) : Expr(Line);
