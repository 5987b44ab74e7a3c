# sweep.gp - the chart of run.sh --sweep (gnuplot, png terminal of gnuplot-nox):
#   gnuplot -e "dir='DATA DIR'; out='FILE.png'" tests/bench/sweep.gp
# Left: jobs/s (bars of points, left axis) and part p99 (dashed, right axis)
# against concurrent clients, rill and the reference stack. Right: fan-out
# deliveries/s and p99 against subscribers, rill and Nchan. Missing peers are
# NaN in the data and simply not drawn.
set terminal png size 1400,560 font ",11"
set output out
set multiplot layout 1,2
set key below
set bmargin 7
set grid
set logscale x
set logscale y
set y2tics
set logscale y2
set ytics nomirror

set title "Demo jobs (4 per request, 10 parts, interval 0) vs concurrent clients"
set xlabel "concurrent clients"
set ylabel "jobs/s"
set y2label "part p99 (ms)"
plot dir.'/clients.dat' using 1:2 with linespoints lw 2 pt 7 title "rill jobs/s", \
     ''                 using 1:4 with linespoints lw 2 pt 5 title "reference stack jobs/s", \
     ''                 using 1:3 axes x1y2 with linespoints dt 2 pt 7 title "rill p99", \
     ''                 using 1:5 axes x1y2 with linespoints dt 2 pt 5 title "reference p99"

set title "Fan-out, one topic at 2,000 msg/s, vs subscribers"
set xlabel "subscribers"
set ylabel "deliveries/s"
set y2label "p99 (ms)"
plot dir.'/subscribers.dat' using 1:2 with linespoints lw 2 pt 7 title "rill deliveries/s", \
     ''                     using 1:4 with linespoints lw 2 pt 5 title "Nchan deliveries/s", \
     ''                     using 1:3 axes x1y2 with linespoints dt 2 pt 7 title "rill p99", \
     ''                     using 1:5 axes x1y2 with linespoints dt 2 pt 5 title "Nchan p99"
unset multiplot
