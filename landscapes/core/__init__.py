"""The math layer: landscapes and their registry, clipping rules, the descent engine, sweeps,
meshes and the RNN unroll. It imports nothing from the figures, lessons or views layers.
"""
