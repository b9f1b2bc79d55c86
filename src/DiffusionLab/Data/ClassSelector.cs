namespace DiffusionLab.Data;

/// <summary>
/// Classes chosen by the user: a comma list whose items are class indices or class names — the whole name or an
/// unambiguous prefix of it or of one of its words, case-insensitively ("animals" and "nature" are "Animals &amp; Nature",
/// "3" is class 3 of MNIST by name as well as by index). Errors name <c>parameter</c>, the setting the list came from.
/// </summary>
public static class ClassSelector
{
    public static int[] Parse(string list, IReadOnlyList<string> classNames, string parameter = "labels") =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(item => One(item, classNames, parameter)).ToArray();

    public static int One(string item, IReadOnlyList<string> classNames, string parameter = "labels")
    {
        // an exact name wins (MNIST's classes are named "0" … "9", so a digit is both its name and its index)
        for (int c = 0; c < classNames.Count; c++)
            if (string.Equals(classNames[c], item, StringComparison.OrdinalIgnoreCase)) return c;
        if (int.TryParse(item, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            if (classNames.Count > 0 && (index < 0 || index >= classNames.Count))
                throw new DiffusionLabException($"class {index} is out of range: there are {classNames.Count} classes (0..{classNames.Count - 1}) (`{parameter}`)");
            return index;
        }
        var matches = Enumerable.Range(0, classNames.Count).Where(c => Words(classNames[c]).Any(w => w.StartsWith(item, StringComparison.OrdinalIgnoreCase))
            || classNames[c].StartsWith(item, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count == 1) return matches[0];
        var known = classNames.Count == 0 ? "the model has no class names" : "classes: " + string.Join(", ", classNames.Select((n, i) => $"{i} {n}"));
        throw new DiffusionLabException(matches.Count == 0
            ? $"no class is called '{item}' (`{parameter}`; {known})"
            : $"'{item}' could be {string.Join(" or ", matches.Select(c => classNames[c]))} (`{parameter}`): give more of the name");
    }

    private static IEnumerable<string> Words(string name) =>
        name.Split([' ', '&', '/', '-', '_'], StringSplitOptions.RemoveEmptyEntries);
}
