using System.Text.Json;

namespace Rest.Onnx.Export.Safetensors;

/// <summary>
/// The weights of a Hugging Face model folder: <c>model.safetensors</c>, or the shards listed in
/// <c>model.safetensors.index.json</c> (<c>{"weight_map": {"tensor": "file"}}</c>). Shards are memory-mapped
/// lazily and stay mapped until disposal; tensors are converted one at a time.
/// </summary>
public sealed class SafetensorsCheckpoint : IDisposable
{
    /// <summary>Single-file weights name.</summary>
    public const string SingleFileName = "model.safetensors";

    /// <summary>Shard index name.</summary>
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly Dictionary<string, string> _fileOfTensor;
    private readonly Dictionary<string, SafetensorsFile> _open = new(StringComparer.Ordinal);
    private readonly string _folder;

    private SafetensorsCheckpoint(string folder, Dictionary<string, string> fileOfTensor)
    {
        _folder = folder;
        _fileOfTensor = fileOfTensor;
    }

    /// <summary>All tensor names.</summary>
    public IEnumerable<string> TensorNames => _fileOfTensor.Keys;

    /// <summary>Opens the weights of a model folder (single file or sharded).</summary>
    /// <exception cref="FileNotFoundException">Neither <c>model.safetensors</c> nor the index exists, or a shard is missing.</exception>
    /// <exception cref="InvalidDataException">A header or the index is invalid, or a file is truncated.</exception>
    public static SafetensorsCheckpoint Open(string folder)
    {
        var single = Path.Combine(folder, SingleFileName);
        var index = Path.Combine(folder, IndexFileName);
        if (File.Exists(single))
        {
            var file = SafetensorsFile.Open(single);
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var name in file.Tensors.Keys) map[name] = single;
            var checkpoint = new SafetensorsCheckpoint(folder, map);
            checkpoint._open[single] = file;
            return checkpoint;
        }
        if (File.Exists(index))
        {
            var fileOfTensor = ReadIndex(folder, index);
            var checkpoint = new SafetensorsCheckpoint(folder, fileOfTensor);
            try
            {
                // Open every shard up front so a missing or truncated shard fails now, not halfway through an export.
                foreach (var shard in fileOfTensor.Values.Distinct(StringComparer.Ordinal)) checkpoint.FileOf(shard);
                foreach (var (tensor, shard) in fileOfTensor)
                    if (!checkpoint._open[shard].Tensors.ContainsKey(tensor))
                        throw new InvalidDataException($"'{index}' maps tensor '{tensor}' to '{shard}', which does not contain it.");
            }
            catch
            {
                checkpoint.Dispose();
                throw;
            }
            return checkpoint;
        }
        throw new FileNotFoundException($"No weights in '{folder}': expected '{SingleFileName}' or '{IndexFileName}'.");
    }

    private static Dictionary<string, string> ReadIndex(string folder, string index)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(index));
            if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"'{index}' has no \"weight_map\" object.");
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var e in map.EnumerateObject())
            {
                var file = e.Value.GetString();
                if (string.IsNullOrEmpty(file) || file.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(file))
                    throw new InvalidDataException($"'{index}' maps tensor '{e.Name}' to an invalid file name '{file}'.");
                result[e.Name] = Path.Combine(folder, file);
            }
            return result;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{index}' is not valid JSON: {e.Message}", e);
        }
    }

    private SafetensorsFile FileOf(string path)
    {
        if (!_open.TryGetValue(path, out var file))
        {
            file = SafetensorsFile.Open(path);
            _open[path] = file;
        }
        return file;
    }

    /// <summary>Whether the checkpoint has a tensor of that name.</summary>
    public bool Contains(string name) => _fileOfTensor.ContainsKey(name);

    /// <summary>Header entry of a tensor.</summary>
    /// <exception cref="KeyNotFoundException">The tensor is missing; the message names it and the folder.</exception>
    public SafetensorsTensorInfo Get(string name)
        => _fileOfTensor.TryGetValue(name, out var path) ? FileOf(path).Get(name)
            : throw new KeyNotFoundException($"Tensor '{name}' is missing from the checkpoint in '{_folder}'.");

    /// <summary>Reads a tensor as float after checking its shape.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="expectedShape">The shape the model config implies.</param>
    /// <exception cref="KeyNotFoundException">The tensor is missing.</exception>
    /// <exception cref="InvalidDataException">Its shape differs from <paramref name="expectedShape"/>, or its dtype is not F32/F16/BF16.</exception>
    public float[] ReadFloat32(string name, params long[] expectedShape)
    {
        var info = Get(name);
        if (!info.Shape.AsSpan().SequenceEqual(expectedShape))
            throw new InvalidDataException(
                $"Tensor '{name}' in '{info.FilePath}' has shape {info.ShapeText}; the config implies {SafetensorsTensorInfo.FormatShape(expectedShape)}.");
        return FileOf(info.FilePath).ReadFloat32(name);
    }

    /// <summary>Unmaps all shards.</summary>
    public void Dispose()
    {
        foreach (var f in _open.Values) f.Dispose();
        _open.Clear();
    }
}
