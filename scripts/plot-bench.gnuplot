# SPDX-License-Identifier: Apache-2.0
# plot-bench.gnuplot -- clustered bar chart of one strata-bench metric: one cluster per workload,
# one bar per engine. Input: a whitespace table with a header row "workload engine1 engine2 ..."
# (scripts/bench-report.sh pivots strata-bench's CSV into it). Variables (gnuplot -e):
#   datafile, outfile, chart_title, ncols (columns in the table), logy (1: logarithmic y axis)
if (!exists("datafile")) datafile = 'bench.dat'
if (!exists("outfile")) outfile = 'bench.png'
if (!exists("chart_title")) chart_title = 'strata-bench'
if (!exists("logy")) logy = 0
if (!exists("ncols")) ncols = 4

set terminal pngcairo size 1100,520 font 'DejaVu Sans,10' noenhanced
set output outfile
set title chart_title
set key top right autotitle columnheader
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set xtics rotate by -30 nomirror
set yrange [0:*]
if (logy) { set logscale y; set yrange [*:*] }
set datafile missing 'NaN'
plot for [i=2:ncols] datafile using i:xtic(1) lc i-1
