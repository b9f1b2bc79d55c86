using TorchSharp;
var a = torch.ones(2, 2);
Console.WriteLine(a.matmul(a).sum().item<float>());
