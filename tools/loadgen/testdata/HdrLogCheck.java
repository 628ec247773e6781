// Reads an interval log with HdrHistogram's own Java library (Debian's
// libhdrhistogram-java) and checks it against what loadgen reported in its
// JSON: the same count, and each percentile, the minimum and the maximum
// equivalent (same bucket at 3 significant figures) to the value HdrHistogram
// computes from the log.
//
//   java -cp hdrhistogram.jar:. HdrLogCheck LOG COUNT MIN MAX P50 P75 P90 P99 P99.9 P99.99
//
// Prints each comparison and exits 1 on the first mismatch.
import java.io.File;
import org.HdrHistogram.EncodableHistogram;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;

public class HdrLogCheck {
  public static void main(String[] args) throws Exception {
    HistogramLogReader reader = new HistogramLogReader(new File(args[0]));
    Histogram total = null;
    int intervals = 0;
    EncodableHistogram interval;
    while ((interval = reader.nextIntervalHistogram()) != null) {
      Histogram histogram = (Histogram) interval;
      if (total == null) total = new Histogram(histogram.getNumberOfSignificantValueDigits());
      total.add(histogram);
      ++intervals;
    }
    if (total == null) fail("the log has no interval histogram");
    System.out.println(intervals + " intervals");
    long count = Long.parseLong(args[1]);
    check("count", total.getTotalCount() == count, total.getTotalCount(), count);
    equivalent(total, "min", total.getMinValue(), Long.parseLong(args[2]));
    equivalent(total, "max", total.getMaxValue(), Long.parseLong(args[3]));
    double[] percentiles = {50, 75, 90, 99, 99.9, 99.99};
    for (int i = 0; i < percentiles.length; ++i) {
      equivalent(total, "p" + percentiles[i], total.getValueAtPercentile(percentiles[i]), Long.parseLong(args[4 + i]));
    }
    System.out.println("ok");
  }

  static void equivalent(Histogram histogram, String what, long theirs, long ours) {
    check(what, histogram.valuesAreEquivalent(theirs, ours), theirs, ours);
  }

  static void check(String what, boolean ok, long theirs, long ours) {
    System.out.println(what + ": HdrHistogram " + theirs + ", loadgen " + ours);
    if (!ok) fail(what + " differs");
  }

  static void fail(String message) {
    System.out.println("FAIL: " + message);
    System.exit(1);
  }
}
