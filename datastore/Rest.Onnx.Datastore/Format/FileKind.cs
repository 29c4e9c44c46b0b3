using System.Runtime.InteropServices;

namespace Rest.Onnx.Datastore.Format;

/// <summary>What a path names, without opening it (opening a FIFO blocks until a writer appears).</summary>
internal enum FileKind
{
    Missing,
    Regular,
    Directory,
    Symlink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
    Unknown,
}

/// <summary>
/// File type of a path. .NET exposes only "file or directory" (a FIFO or /dev/null counts as a file), so on
/// Linux this asks statx(2), whose struct layout is the same on every architecture; hand-written because the
/// one syscall does not justify a native-library package (Mono.Unix). Elsewhere it falls back to .NET's view.
/// </summary>
internal static partial class FileKinds
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    // struct statx: u32 mask, u32 blksize, u64 attributes, u32 nlink, u32 uid, u32 gid, u16 mode (28), u16 pad,
    // u64 ino (32), ..., u32 dev_major (136), u32 dev_minor (140).
    private const int ModeOffset = 28;

    public static FileKind Of(string path, bool followLinks = true)
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                Span<byte> buffer = stackalloc byte[256];
                int rc;
                unsafe
                {
                    fixed (byte* b = buffer)
                        rc = Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxType, b);
                }
                if (rc != 0) return Marshal.GetLastPInvokeError() == 2 /* ENOENT */ ? FileKind.Missing : Fallback(path, followLinks);
                var mode = BitConverter.ToUInt16(buffer[ModeOffset..]) & 0xF000;
                return mode switch
                {
                    0x8000 => FileKind.Regular,
                    0x4000 => FileKind.Directory,
                    0xA000 => FileKind.Symlink,
                    0x1000 => FileKind.Fifo,
                    0x2000 => FileKind.CharacterDevice,
                    0x6000 => FileKind.BlockDevice,
                    0xC000 => FileKind.Socket,
                    _ => FileKind.Unknown,
                };
            }
            catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
            {
                return Fallback(path, followLinks);
            }
        }
        return Fallback(path, followLinks);
    }

    /// <summary>Device and inode of the file a path names (links followed), or null where unknown (not Linux, or missing).</summary>
    public static (ulong Device, ulong Inode)? Identity(string path)
    {
        if (!OperatingSystem.IsLinux()) return null;
        try
        {
            Span<byte> buffer = stackalloc byte[256];
            int rc;
            unsafe
            {
                fixed (byte* b = buffer)
                    rc = Statx(AtFdCwd, path, 0, StatxIno, b);
            }
            if (rc != 0) return null;
            var device = ((ulong)BitConverter.ToUInt32(buffer[136..]) << 32) | BitConverter.ToUInt32(buffer[140..]);
            return (device, BitConverter.ToUInt64(buffer[32..]));
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A human name of a kind, for messages.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        FileKind.Directory => "a folder",
        FileKind.Symlink => "a symbolic link",
        FileKind.Missing => "missing",
        FileKind.Regular => "a regular file",
        _ => "not a regular file",
    };

    private static FileKind Fallback(string path, bool followLinks)
    {
        FileSystemInfo info = new FileInfo(path);
        if (!info.Exists)
        {
            info = new DirectoryInfo(path);
            if (!info.Exists) return info.LinkTarget is not null ? FileKind.Symlink : FileKind.Missing;
        }
        if (!followLinks && info.LinkTarget is not null) return FileKind.Symlink;
        return (info.Attributes & FileAttributes.Directory) != 0 ? FileKind.Directory : FileKind.Regular;
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);
}
