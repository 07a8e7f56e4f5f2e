package io.parley.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;

/**
 * Draws a latency percentile-distribution chart (Java2D, headless) to a PNG: x axis is the
 * percentile on a 1/(1-p) log scale (0, 90, 99, 99.9, ...), y axis the latency in ms, one line
 * per histogram (histogram values are microseconds).
 */
final class LatencyPlot {
  private static final int W = 1100;
  private static final int H = 650;
  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 70;
  private static final Color[] COLORS = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
      new Color(0x9467bd), new Color(0x8c564b)};

  private LatencyPlot() {
  }

  /** Writes the chart; returns false (and writes nothing) if all histograms are empty. */
  static boolean write(Path file, String title, Map<String, Histogram> histograms) throws IOException {
    long maxCount = 0;
    long maxValue = 0;
    for (Histogram h : histograms.values()) {
      maxCount = Math.max(maxCount, h.getTotalCount());
      maxValue = Math.max(maxValue, h.getMaxValue());
    }
    if (maxCount == 0) {
      return false;
    }
    // decades of the x axis: enough to show the tail that the sample count supports
    int decades = (int) Math.max(2, Math.min(6, Math.ceil(Math.log10(maxCount))));
    double yMaxMs = niceCeil(Math.max(0.001, maxValue / 1000.0) * 1.05);

    BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, W, H);
    int pw = W - LEFT - RIGHT;
    int ph = H - TOP - BOTTOM;

    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    g.setColor(Color.BLACK);
    g.drawString(title, LEFT, 30);

    // grid and axis labels
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    for (int d = 0; d <= decades; d++) {
      int x = LEFT + (int) Math.round(pw * d / (double) decades);
      g.setColor(new Color(0xdddddd));
      g.drawLine(x, TOP, x, TOP + ph);
      g.setColor(Color.BLACK);
      String label = d == 0 ? "0%" : percentLabel(d);
      g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, TOP + ph + 18);
    }
    int yTicks = 5;
    for (int t = 0; t <= yTicks; t++) {
      int y = TOP + ph - (int) Math.round(ph * t / (double) yTicks);
      g.setColor(new Color(0xdddddd));
      g.drawLine(LEFT, y, LEFT + pw, y);
      g.setColor(Color.BLACK);
      String label = fmt(yMaxMs * t / yTicks);
      g.drawString(label, LEFT - 8 - g.getFontMetrics().stringWidth(label), y + 4);
    }
    g.drawRect(LEFT, TOP, pw, ph);
    g.drawString("percentile", LEFT + pw / 2 - 30, H - 25);
    Graphics2D gy = (Graphics2D) g.create();
    gy.rotate(-Math.PI / 2);
    gy.drawString("latency (ms)", -(TOP + ph / 2 + 35), 20);
    gy.dispose();

    // one line per histogram
    int i = 0;
    int legendY = TOP + 20;
    for (Map.Entry<String, Histogram> e : histograms.entrySet()) {
      Histogram h = e.getValue();
      if (h.getTotalCount() == 0) {
        continue;
      }
      Color c = COLORS[i++ % COLORS.length];
      Path2D.Double path = new Path2D.Double();
      boolean first = true;
      for (HistogramIterationValue v : h.percentiles(5)) {
        double p = v.getPercentileLevelIteratedTo() / 100.0;
        double xDec = p >= 1.0 ? decades : Math.min(decades, Math.log10(1.0 / (1.0 - p)));
        double x = LEFT + pw * xDec / decades;
        double y = TOP + ph - ph * Math.min(1.0, (h.highestEquivalentValue(v.getValueIteratedTo()) / 1000.0) / yMaxMs);
        if (first) {
          path.moveTo(x, y);
          first = false;
        } else {
          path.lineTo(x, y);
        }
        if (p >= 1.0) {
          break;
        }
      }
      g.setColor(c);
      g.setStroke(new BasicStroke(2f));
      g.draw(path);
      g.setStroke(new BasicStroke(1f));
      g.fillRect(LEFT + 15, legendY - 9, 18, 4);
      g.setColor(Color.BLACK);
      g.drawString(String.format(Locale.ROOT, "%s (n=%d, p99=%s ms, max=%s ms)", e.getKey(), h.getTotalCount(),
          fmt(h.getValueAtPercentile(99) / 1000.0), fmt(h.getMaxValue() / 1000.0)), LEFT + 40, legendY - 3);
      legendY += 18;
    }
    g.dispose();
    Files.createDirectories(file.toAbsolutePath().getParent());
    return ImageIO.write(img, "png", file.toFile());
  }

  private static String percentLabel(int decades) {
    StringBuilder sb = new StringBuilder("99");
    if (decades == 1) {
      return "90%";
    }
    if (decades > 2) {
      sb.append('.');
      sb.append("9".repeat(decades - 2));
    }
    return sb.append('%').toString();
  }

  private static double niceCeil(double v) {
    double exp = Math.pow(10, Math.floor(Math.log10(v)));
    for (double m : new double[] {1, 2, 2.5, 5, 10}) {
      if (m * exp >= v) {
        return m * exp;
      }
    }
    return 10 * exp;
  }

  private static String fmt(double v) {
    if (v == 0) {
      return "0";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f", v);
    }
    if (v >= 1) {
      return String.format(Locale.ROOT, "%.1f", v);
    }
    return String.format(Locale.ROOT, "%.3f", v);
  }
}
