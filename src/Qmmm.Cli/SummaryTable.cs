using Spectre.Console;
using Spectre.Console.Rendering;

namespace Qmmm.Cli;

/// <summary>The plain quantity/value/unit tables the commands print for people (no colours, fixed width).</summary>
internal static class SummaryTable
{
    /// <summary>A Spectre console writing plain text (no ANSI codes, no colours, 100 columns) to <paramref name="output"/>.</summary>
    public static IAnsiConsole Console(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 100;
        return console;
    }

    /// <summary>An empty table with the given title and the columns quantity, value (right-aligned), unit.</summary>
    public static Table Create(string title) =>
        new Table().Border(TableBorder.Simple)
            .Title(new TableTitle(Markup.Escape(title)))
            .AddColumn("quantity").AddColumn(new TableColumn("value").RightAligned()).AddColumn("unit");

    /// <summary>Adds one row of literal text (no markup is interpreted).</summary>
    public static void Row(Table table, string quantity, string value, string unit) =>
        table.AddRow(new IRenderable[] { new Text(quantity), new Text(value), new Text(unit) });
}
