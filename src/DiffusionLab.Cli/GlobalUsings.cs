// The command line is the top floor: every verb parses options (System.CommandLine) and calls into the library, so the
// namespaces all verbs share are imported once here instead of at the head of every verb's file.
global using System.CommandLine;
global using System.Diagnostics;
global using System.Globalization;
global using DiffusionLab.Conditioning;
global using DiffusionLab.Data;
global using DiffusionLab.Evaluation;
global using DiffusionLab.Runs;
global using DiffusionLab.Imaging;
global using TorchSharp;
global using static TorchSharp.torch;
