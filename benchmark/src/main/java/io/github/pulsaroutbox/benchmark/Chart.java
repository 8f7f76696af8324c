package io.github.pulsaroutbox.benchmark;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/** A horizontal bar chart as a PNG (median bars with min–max whiskers), drawn with Java2D: no plotting library. */
final class Chart {

    /** One bar: its label, median and range. */
    record Bar(String label, double median, double min, double max) {
    }

    private Chart() {
    }

    static void write(Path file, String title, String unit, List<Bar> bars) throws IOException {
        int width = 900;
        int rowHeight = 44;
        int top = 60;
        int left = 380;
        int right = 110;
        int height = top + rowHeight * bars.size() + 40;
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, 20, 30);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        double scale = bars.stream().mapToDouble(Bar::max).max().orElse(1);
        int plot = width - left - right;
        for (int i = 0; i < bars.size(); i++) {
            Bar bar = bars.get(i);
            int y = top + i * rowHeight;
            g.setColor(Color.DARK_GRAY);
            g.drawString(bar.label(), 20, y + 22);
            int length = (int) (plot * bar.median() / scale);
            g.setColor(bar.label().startsWith("relay") || bar.label().startsWith("p") ? new Color(0x2E7D32)
                                                                                       : new Color(0x607D8B));
            g.fillRect(left, y + 8, Math.max(1, length), rowHeight - 18);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(1.5f));
            int x1 = left + (int) (plot * bar.min() / scale);
            int x2 = left + (int) (plot * bar.max() / scale);
            int mid = y + rowHeight / 2 - 1;
            g.drawLine(x1, mid, x2, mid);
            g.drawLine(x1, mid - 6, x1, mid + 6);
            g.drawLine(x2, mid - 6, x2, mid + 6);
            g.drawString(String.format(Locale.ROOT, "%,.0f %s", bar.median(), unit), left + plot + 8, y + 22);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }
}
