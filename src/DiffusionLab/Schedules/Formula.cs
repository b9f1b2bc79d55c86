using System.Globalization;

namespace DiffusionLab.Schedules;

/// <summary>
/// A tiny arithmetic-expression compiler for user-defined schedules given on the command line, e.g.
/// <c>beta=1e-4+(0.02-1e-4)*t^2</c> or <c>alphabar=cos(t*pi/2)^2</c>. Variables: <c>t</c> (normalised time
/// t/T in [0, 1]) and <c>T</c> (number of steps). Operators + - * / ^ (right-associative), unary minus,
/// constants pi and e, functions sin cos tan exp log ln sqrt abs tanh sigmoid min max pow clip.
/// </summary>
public static class Formula
{
    /// <summary>Compiles <paramref name="text"/> into f(t, T). Throws <see cref="DiffusionLabException"/> on a syntax error.</summary>
    public static Func<double, double, double> Compile(string text)
    {
        var parser = new Parser(text);
        var node = parser.ParseExpression();
        parser.ExpectEnd();
        return node;
    }

    private sealed class Parser(string text)
    {
        private int _pos;

        private Exception Error(string what) =>
            new DiffusionLabException($"bad formula '{text}': {what} at position {_pos + 1}");

        private void SkipSpaces() { while (_pos < text.Length && char.IsWhiteSpace(text[_pos])) _pos++; }

        private bool Eat(char c)
        {
            SkipSpaces();
            if (_pos < text.Length && text[_pos] == c) { _pos++; return true; }
            return false;
        }

        public void ExpectEnd()
        {
            SkipSpaces();
            if (_pos != text.Length) throw Error($"unexpected '{text[_pos]}'");
        }

        public Func<double, double, double> ParseExpression()
        {
            var left = ParseTerm();
            while (true)
            {
                if (Eat('+')) { var l = left; var r = ParseTerm(); left = (t, n) => l(t, n) + r(t, n); }
                else if (Eat('-')) { var l = left; var r = ParseTerm(); left = (t, n) => l(t, n) - r(t, n); }
                else return left;
            }
        }

        private Func<double, double, double> ParseTerm()
        {
            var left = ParseUnary();
            while (true)
            {
                if (Eat('*')) { var l = left; var r = ParseUnary(); left = (t, n) => l(t, n) * r(t, n); }
                else if (Eat('/')) { var l = left; var r = ParseUnary(); left = (t, n) => l(t, n) / r(t, n); }
                else return left;
            }
        }

        private Func<double, double, double> ParseUnary()
        {
            if (Eat('-')) { var u = ParseUnary(); return (t, n) => -u(t, n); }
            if (Eat('+')) return ParseUnary();
            return ParsePower();
        }

        private Func<double, double, double> ParsePower()
        {
            var b = ParsePrimary();
            if (!Eat('^')) return b;
            var e = ParseUnary(); // right-associative: 2^3^2 = 2^(3^2)
            return (t, n) => Math.Pow(b(t, n), e(t, n));
        }

        private Func<double, double, double> ParsePrimary()
        {
            SkipSpaces();
            if (_pos >= text.Length) throw Error("unexpected end");
            char c = text[_pos];
            if (Eat('('))
            {
                var inner = ParseExpression();
                if (!Eat(')')) throw Error("missing ')'");
                return inner;
            }
            if (char.IsDigit(c) || c == '.') return ParseNumber();
            if (char.IsLetter(c)) return ParseIdentifier();
            throw Error($"unexpected '{c}'");
        }

        private Func<double, double, double> ParseNumber()
        {
            int start = _pos;
            while (_pos < text.Length && (char.IsDigit(text[_pos]) || text[_pos] == '.')) _pos++;
            if (_pos < text.Length && (text[_pos] == 'e' || text[_pos] == 'E'))
            {
                int save = _pos++;
                if (_pos < text.Length && (text[_pos] == '+' || text[_pos] == '-')) _pos++;
                if (_pos < text.Length && char.IsDigit(text[_pos]))
                    while (_pos < text.Length && char.IsDigit(text[_pos])) _pos++;
                else _pos = save; // 'e' was not an exponent
            }
            var s = text[start.._pos];
            if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                throw Error($"bad number '{s}'");
            return (_, _) => v;
        }

        private Func<double, double, double> ParseIdentifier()
        {
            int start = _pos;
            while (_pos < text.Length && (char.IsLetterOrDigit(text[_pos]) || text[_pos] == '_')) _pos++;
            var name = text[start.._pos];
            if (Eat('('))
            {
                var args = new List<Func<double, double, double>>();
                if (!Eat(')'))
                {
                    do args.Add(ParseExpression()); while (Eat(','));
                    if (!Eat(')')) throw Error("missing ')'");
                }
                return MakeFunction(name, args);
            }
            return name switch
            {
                "t" => (t, _) => t,
                "T" => (_, n) => n,
                "pi" => (_, _) => Math.PI,
                "e" => (_, _) => Math.E,
                _ => throw Error($"unknown name '{name}' (variables: t, T; constants: pi, e)"),
            };
        }

        private Func<double, double, double> MakeFunction(string name, List<Func<double, double, double>> a)
        {
            Func<double, double, double> One(Func<double, double> f)
            {
                if (a.Count != 1) throw Error($"{name}() takes 1 argument, got {a.Count}");
                var x = a[0];
                return (t, n) => f(x(t, n));
            }
            Func<double, double, double> Two(Func<double, double, double> f)
            {
                if (a.Count != 2) throw Error($"{name}() takes 2 arguments, got {a.Count}");
                var x = a[0]; var y = a[1];
                return (t, n) => f(x(t, n), y(t, n));
            }
            return name switch
            {
                "sin" => One(Math.Sin),
                "cos" => One(Math.Cos),
                "tan" => One(Math.Tan),
                "exp" => One(Math.Exp),
                "log" or "ln" => One(Math.Log),
                "sqrt" => One(Math.Sqrt),
                "abs" => One(Math.Abs),
                "tanh" => One(Math.Tanh),
                "sigmoid" => One(x => 1.0 / (1.0 + Math.Exp(-x))),
                "min" => Two(Math.Min),
                "max" => Two(Math.Max),
                "pow" => Two(Math.Pow),
                "clip" when a.Count == 3 => ((Func<double, double, double>)((t, n) => Math.Clamp(a[0](t, n), a[1](t, n), a[2](t, n)))),
                "clip" => throw Error("clip() takes 3 arguments (x, lo, hi)"),
                _ => throw Error($"unknown function '{name}'"),
            };
        }
    }
}
