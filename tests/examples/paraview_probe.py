# pvbatch paraview_probe.py SOLUTION.xdmf POINTS.csv
# ParaView's own XDMF reader opens SOLUTION.xdmf (2-D or 3-D); at every point of
# POINTS.csv (columns x, y[, z], u: nodes of the output grid with u from `kpde eval`)
# the probed u must equal the table's u to 1e-6 (ParaView locates probes in single
# precision; a wrong axis order or layout is off by O(1)). Prints "paraview probe: N points agree".
import csv
import sys

from paraview import servermanager as sm
from paraview.simple import ProbeLocation, Xdmf3ReaderS

reader = Xdmf3ReaderS(FileName=[sys.argv[1]])
reader.UpdatePipeline()
names = [reader.PointData.GetArray(i).GetName() for i in range(reader.PointData.GetNumberOfArrays())]
if "u" not in names:
    sys.exit("paraview probe: no array u in %s (arrays: %s)" % (sys.argv[1], names))
rows = list(csv.DictReader(open(sys.argv[2])))
bad = 0
for row in rows:
    p = [float(row["x"]), float(row["y"]), float(row.get("z", 0.0))]
    probe = ProbeLocation(Input=reader, ProbeType="Fixed Radius Point Source")
    probe.ProbeType.Center = p
    probe.UpdatePipeline()
    got = sm.Fetch(probe).GetPointData().GetArray("u").GetValue(0)
    want = float(row["u"])
    if abs(got - want) > 1e-6 * (1 + abs(want)):  # ParaView locates the probe in single precision
        print("paraview probe: at %s ParaView reads u = %.17g, kpde eval gives %.17g" % (p, got, want))
        bad += 1
if bad:
    sys.exit(1)
print("paraview probe: %d points agree" % len(rows))
