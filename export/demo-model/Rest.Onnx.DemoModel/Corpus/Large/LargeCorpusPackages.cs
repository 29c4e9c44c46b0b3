namespace Rest.Onnx.DemoModel.Corpus.Large;

/// <summary>The Debian bookworm packages whose Python source makes the large demo corpus.</summary>
public static class LargeCorpusPackages
{
    /// <summary>
    /// The default list: large libraries of hand-written Python across domains (automation, science, web,
    /// cloud, tooling), about 630 MB of <c>*.py</c> under 512 KB in bookworm (measured 2026-12-04), so that the
    /// 100M-token store is a uniform sample of them rather than all of a few. Left out on purpose:
    /// python3-azure (420 MB, nearly all code generated from API specifications: one template repeated tens of
    /// thousands of times would dominate the store) and python3-plotly (its validators are generated, one class per
    /// property). Leakage from backports and vendored standard-library copies (pip, setuptools, ...) is handled by
    /// <see cref="CorpusExclusion"/>, not by leaving packages out.
    /// </summary>
    public static IReadOnlyList<string> Default { get; } =
    [
        "ansible", "ansible-core", "python3-sage", "python3-sympy", "python3-cinder", "python3-nova", "python3-pandas",
        "python3-neutron", "python3-scipy", "python3-statsmodels", "python3-manila", "python3-astropy", "python3-twisted",
        "python3-sklearn", "python3-ironic", "python3-mne", "python3-kubernetes", "python3-numba", "python3-heat",
        "python3-numpy", "python3-matplotlib", "python3-scapy", "python3-nipype", "python3-pymatgen", "python3-ase",
        "python3-keystone", "python3-sqlalchemy", "python3-pip", "python3-openstacksdk", "python3-biopython",
        "python3-networkx", "python3-tempest", "python3-impacket", "python3-django", "python3-mypy", "python3-nltk",
        "python3-xarray", "python3-dask", "python3-pygments", "python3-glance", "python3-dipy", "python3-distributed",
        "python3-pyglet", "python3-skimage", "python3-mdanalysis", "python3-kivy", "python3-sphinx", "python3-sunpy",
        "python3-setuptools", "python3-nibabel", "python3-ipython", "python3-docutils", "python3-tornado",
        "python3-hypothesis", "python3-botocore", "python3-pytest", "python3-jedi",
    ];
}
