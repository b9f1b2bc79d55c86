// TorchSharp is the tensor library of every floor; importing it once keeps each file's usings to the library folders
// it depends on (which the architecture test reads).
global using TorchSharp;
global using static TorchSharp.torch;
