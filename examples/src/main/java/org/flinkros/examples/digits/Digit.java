/*
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 *     http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 */
package org.flinkros.examples.digits;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** A held-out sample: an 8x8 image of a digit and its true label. */
public final class Digit implements Serializable {
    private static final long serialVersionUID = 1L;

    public int label;
    public float[] pixels;

    public Digit() {}

    Digit(int label, float[] pixels) {
        this.label = label;
        this.pixels = pixels;
    }

    /** The samples the model was not trained on ({@code /digits/heldout.csv}). */
    public static List<Digit> heldOut() throws IOException {
        List<Digit> digits = new ArrayList<>();
        try (BufferedReader lines = reader("/digits/heldout.csv")) {
            for (String line = lines.readLine(); line != null; line = lines.readLine()) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                String[] fields = line.split(",");
                float[] pixels = new float[fields.length - 1];
                for (int i = 1; i < fields.length; i++) {
                    pixels[i - 1] = Float.parseFloat(fields[i]);
                }
                digits.add(new Digit(Integer.parseInt(fields[0]), pixels));
            }
        }
        return digits;
    }

    /** The model's accuracy on the held-out samples, as measured offline when it was made. */
    public static double offlineAccuracy() throws IOException {
        Properties properties = new Properties();
        try (BufferedReader in = reader("/digits/model.properties")) {
            properties.load(in);
        }
        return Double.parseDouble(properties.getProperty("offline.accuracy"));
    }

    private static BufferedReader reader(String resource) throws IOException {
        InputStream in = Digit.class.getResourceAsStream(resource);
        if (in == null) {
            throw new IOException("resource " + resource + " is not on the classpath");
        }
        return new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
    }
}
