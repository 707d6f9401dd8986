// Lists the configuration keys that a Flink distribution's jars declare. Part of the FOSS Data Platform's
// key-catalog generator (scripts/catalogs/flink.py compiles and runs this file; see there for how to use it).
//
// usage: java FlinkOptions JAR...
//
// Compiles against the JDK alone: every Flink class is reached by reflection through a class loader over the
// jars given as arguments. A jar nested in one of them (lib/flink-table-planner-loader-*.jar carries the
// planner as flink-table-planner.jar) is unpacked into a temporary directory and scanned as well.
//
// Output: one JSON object per line on stdout; each jar's record comes before the records of its classes.
//   {"kind":"jar","jar":NAME,"services":[SPI...]}
//       every jar scanned; services are the names of its META-INF/services files (the SPIs it provides).
//   {"kind":"option","jar":NAME,"class":C,"field":F,"key":K,"prefix":P|null,"deprecated":B,
//    "annotations":[A...],"fallbackKeys":[{"key":K,"deprecated":B}...]}
//       every public static final field of type org.apache.flink.configuration.ConfigOption. prefix is the value
//       of @Documentation.SuffixOption on the field or else on its class: the key is then relative to it (e.g.
//       "metrics.reporter.<name>"). deprecated: the field is @Deprecated. annotations: their simple names.
//   {"kind":"prefix","jar":NAME,"class":C,"field":F,"value":V}
//       every static final String field named *_PREFIX in a class that declares ConfigOption fields: some
//       families of keys are declared only so (e.g. "containerized.master.env.", read by prefix at run time).
//   {"kind":"constant","jar":NAME,"class":C,"field":F,"value":V,"families":[metrics|traces|events...]}
//       every static final String field of a metric/trace/event reporter or reporter factory class (and of its
//       superclasses) in a jar that provides a reporter SPI: reporters read their own settings from their
//       MetricConfig by such constants (e.g. the JMX and Prometheus reporters' "port").
//   {"kind":"summary","classes":N,"loaded":N,"failed":N,"options":N,"constants":N,"prefixes":N}
// Only classes whose bytes mention ConfigOption (or, in reporter plugin jars, every org.apache.flink class) are
// loaded. Classes that cannot be loaded or initialised are skipped and counted as failed (details with -v).

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.annotation.Annotation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public final class FlinkOptions {

    private static final String CONFIG_OPTION = "org.apache.flink.configuration.ConfigOption";
    private static final String SUFFIX_OPTION = "org.apache.flink.annotation.docs.Documentation$SuffixOption";
    private static final String SERVICES = "META-INF/services/";

    /** Reporter SPI (factory or reporter interface) -> reporter family ("metrics.reporter.<name>" etc.). */
    private static final Map<String, String> REPORTER_TYPES = new LinkedHashMap<>();

    static {
        for (String family : new String[] {"metrics", "traces", "events"}) {
            String kind = family.substring(0, 1).toUpperCase() + family.substring(1, family.length() - 1);
            String pkg = "org.apache.flink." + family + ".reporter.";
            REPORTER_TYPES.put(pkg + kind + "ReporterFactory", family);
            REPORTER_TYPES.put(pkg + kind + "Reporter", family);
        }
    }

    /** A class's constant pool names its field types: only classes that mention ConfigOption can declare one. */
    private static final byte[] OPTION_DESCRIPTOR =
            ("L" + CONFIG_OPTION.replace('.', '/') + ";").getBytes(StandardCharsets.US_ASCII);

    private final PrintStream out;
    private final boolean verbose;
    private final Map<String, String> jarNames = new HashMap<>(); // jar URL -> display name
    private int classes;
    private int loaded;
    private int failed;
    private int options;
    private int constants;
    private int prefixes;
    private final Set<String> constantClasses = new HashSet<>();

    private FlinkOptions(PrintStream out, boolean verbose) {
        this.out = out;
        this.verbose = verbose;
    }

    public static void main(String[] args) throws Exception {
        boolean verbose = false;
        List<Path> jars = new ArrayList<>();
        for (String arg : args) {
            if (arg.equals("-v")) {
                verbose = true;
            } else {
                jars.add(Path.of(arg));
            }
        }
        if (jars.isEmpty()) {
            System.err.println("usage: java FlinkOptions [-v] JAR...");
            System.exit(2);
        }
        PrintStream out = new PrintStream(System.out, false, StandardCharsets.UTF_8);
        new FlinkOptions(out, verbose).run(jars);
        out.flush();
    }

    private void run(List<Path> given) throws Exception {
        Path scratch = Files.createTempDirectory("flink-options");
        try {
            Map<Path, String> jars = new LinkedHashMap<>();
            for (Path jar : given) {
                String name = jar.getFileName().toString();
                jars.put(jar, name);
                for (Path nested : unpackNested(jar, scratch)) {
                    jars.put(nested, name + "!/" + nested.getFileName());
                }
            }
            URL[] urls = new URL[jars.size()];
            int i = 0;
            for (Map.Entry<Path, String> jar : jars.entrySet()) {
                urls[i] = jar.getKey().toUri().toURL();
                jarNames.put(urls[i].toString(), jar.getValue());
                i++;
            }
            // The platform loader as parent: nothing from this program's own class path gets in the way.
            try (URLClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader())) {
                Class<?> optionType = loader.loadClass(CONFIG_OPTION);
                Map<Class<?>, String> reporterTypes = new LinkedHashMap<>();
                for (Map.Entry<String, String> type : REPORTER_TYPES.entrySet()) {
                    try {
                        reporterTypes.put(loader.loadClass(type.getKey()), type.getValue());
                    } catch (ClassNotFoundException e) {
                        debug("no reporter type " + type.getKey());
                    }
                }
                Set<String> seen = new LinkedHashSet<>();
                for (Map.Entry<Path, String> jar : jars.entrySet()) {
                    scanJar(jar.getKey(), jar.getValue(), loader, optionType, reporterTypes, seen);
                }
            }
            out.println("{\"kind\":\"summary\",\"classes\":" + classes + ",\"loaded\":" + loaded + ",\"failed\":"
                    + failed + ",\"options\":" + options + ",\"constants\":" + constants + ",\"prefixes\":" + prefixes
                    + "}");
        } finally {
            deleteTree(scratch);
        }
    }

    private static List<Path> unpackNested(Path jar, Path scratch) throws IOException {
        List<Path> nested = new ArrayList<>();
        try (JarFile file = new JarFile(jar.toFile())) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                if (entry.isDirectory() || !entry.getName().endsWith(".jar") || entry.getName().contains("/")) {
                    continue;
                }
                Path dir = Files.createTempDirectory(scratch, "nested");
                Path target = dir.resolve(entry.getName());
                try (InputStream in = file.getInputStream(entry)) {
                    Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
                }
                nested.add(target);
            }
        }
        return nested;
    }

    private void scanJar(Path jar, String name, ClassLoader loader, Class<?> optionType,
            Map<Class<?>, String> reporterTypes, Set<String> seen) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            Set<String> services = new TreeSet<>();
            List<JarEntry> classEntries = new ArrayList<>();
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String entryName = entry.getName();
                if (entry.isDirectory()) {
                    continue;
                }
                if (entryName.startsWith(SERVICES) && entryName.length() > SERVICES.length()) {
                    services.add(entryName.substring(SERVICES.length()));
                } else if (entryName.endsWith(".class") && !entryName.startsWith("META-INF/")
                        && !entryName.endsWith("module-info.class") && !entryName.endsWith("package-info.class")) {
                    classEntries.add(entry);
                }
            }
            out.println("{\"kind\":\"jar\",\"jar\":" + json(name) + ",\"services\":" + json(services) + "}");
            boolean providesReporters = false;
            for (String service : services) {
                providesReporters |= REPORTER_TYPES.containsKey(service);
            }
            classEntries.sort(Comparator.comparing(JarEntry::getName));
            for (JarEntry entry : classEntries) {
                String className = entry.getName().substring(0, entry.getName().length() - 6).replace('/', '.');
                if (!seen.add(className)) {
                    continue; // the loader serves the first copy on the class path; that one was scanned
                }
                classes++;
                boolean mayDeclareOptions;
                try (InputStream in = file.getInputStream(entry)) {
                    mayDeclareOptions = contains(in.readAllBytes(), OPTION_DESCRIPTOR);
                }
                boolean mayBeReporter = providesReporters && className.startsWith("org.apache.flink.");
                if (!mayDeclareOptions && !mayBeReporter) {
                    continue;
                }
                Class<?> type;
                try {
                    type = Class.forName(className, false, loader);
                    loaded++;
                } catch (Throwable e) {
                    fail(className, e);
                    continue;
                }
                if (mayDeclareOptions) {
                    scanOptions(type, optionType);
                }
                if (mayBeReporter) {
                    scanReporterConstants(type, reporterTypes);
                }
            }
        }
    }

    private void scanOptions(Class<?> type, Class<?> optionType) {
        Field[] fields;
        try {
            fields = type.getDeclaredFields();
        } catch (Throwable e) {
            fail(type.getName(), e);
            return;
        }
        List<Field> prefixFields = new ArrayList<>();
        int declared = options;
        for (Field field : fields) {
            int mod = field.getModifiers();
            if (Modifier.isStatic(mod) && Modifier.isFinal(mod) && field.getType() == String.class
                    && field.getName().endsWith("_PREFIX")) {
                prefixFields.add(field);
                continue;
            }
            if (!Modifier.isPublic(mod) || !Modifier.isStatic(mod) || !Modifier.isFinal(mod)
                    || !optionType.isAssignableFrom(field.getType())) {
                continue;
            }
            try {
                field.setAccessible(true); // the field is public, its class need not be
                Object option = field.get(null);
                if (option == null) {
                    continue;
                }
                String key = (String) call(option, "key");
                List<String> fallbacks = new ArrayList<>();
                for (Object fallback : (Iterable<?>) call(option, "fallbackKeys")) {
                    fallbacks.add("{\"key\":" + json((String) call(fallback, "getKey")) + ",\"deprecated\":"
                            + call(fallback, "isDeprecated") + "}");
                }
                String prefix = suffixPrefix(type.getAnnotations(), null);
                Set<String> annotations = new TreeSet<>();
                for (Annotation annotation : field.getAnnotations()) {
                    Class<? extends Annotation> annotationType = annotation.annotationType();
                    annotations.add(annotationType.getName().substring(annotationType.getName().lastIndexOf('.') + 1));
                }
                prefix = suffixPrefix(field.getAnnotations(), prefix);
                options++;
                out.println("{\"kind\":\"option\",\"jar\":" + json(jarOf(type)) + ",\"class\":" + json(type.getName())
                        + ",\"field\":" + json(field.getName()) + ",\"key\":" + json(key) + ",\"prefix\":"
                        + (prefix == null ? "null" : json(prefix)) + ",\"deprecated\":"
                        + field.isAnnotationPresent(Deprecated.class) + ",\"annotations\":" + json(annotations)
                        + ",\"fallbackKeys\":[" + String.join(",", fallbacks) + "]}");
            } catch (Throwable e) {
                fail(type.getName() + "." + field.getName(), e);
            }
        }
        if (options > declared) { // an options class: its key prefixes, too
            for (Field field : prefixFields) {
                emitPrefix(type, field);
            }
        }
    }

    private void emitPrefix(Class<?> type, Field field) {
        try {
            field.setAccessible(true);
            Object value = field.get(null);
            if (value != null) {
                prefixes++;
                out.println("{\"kind\":\"prefix\",\"jar\":" + json(jarOf(type)) + ",\"class\":" + json(type.getName())
                        + ",\"field\":" + json(field.getName()) + ",\"value\":" + json((String) value) + "}");
            }
        } catch (Throwable e) {
            fail(type.getName() + "." + field.getName(), e);
        }
    }

    private void scanReporterConstants(Class<?> type, Map<Class<?>, String> reporterTypes) {
        Set<String> families = new TreeSet<>();
        try {
            for (Map.Entry<Class<?>, String> reporterType : reporterTypes.entrySet()) {
                if (reporterType.getKey().isAssignableFrom(type) && !type.isInterface()) {
                    families.add(reporterType.getValue());
                }
            }
        } catch (Throwable e) {
            fail(type.getName(), e);
            return;
        }
        if (families.isEmpty()) {
            return;
        }
        for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            if (!constantClasses.add(c.getName() + " " + families)) {
                break; // this class and its superclasses are done
            }
            Field[] fields;
            try {
                fields = c.getDeclaredFields();
            } catch (Throwable e) {
                fail(c.getName(), e);
                break;
            }
            for (Field field : fields) {
                int mod = field.getModifiers();
                if (!Modifier.isStatic(mod) || !Modifier.isFinal(mod) || field.getType() != String.class) {
                    continue;
                }
                try {
                    field.setAccessible(true);
                    Object value = field.get(null);
                    if (value == null) {
                        continue;
                    }
                    constants++;
                    out.println("{\"kind\":\"constant\",\"jar\":" + json(jarOf(c)) + ",\"class\":" + json(c.getName())
                            + ",\"field\":" + json(field.getName()) + ",\"value\":" + json((String) value)
                            + ",\"families\":" + json(families) + "}");
                } catch (Throwable e) {
                    fail(c.getName() + "." + field.getName(), e);
                }
            }
        }
    }

    /** The value of a @Documentation.SuffixOption among the annotations, else the given default. */
    private static String suffixPrefix(Annotation[] annotations, String otherwise) throws ReflectiveOperationException {
        for (Annotation annotation : annotations) {
            if (annotation.annotationType().getName().equals(SUFFIX_OPTION)) {
                return (String) annotation.annotationType().getMethod("value").invoke(annotation);
            }
        }
        return otherwise;
    }

    private static Object call(Object target, String method) throws ReflectiveOperationException {
        Method m = target.getClass().getMethod(method);
        return m.invoke(target);
    }

    private String jarOf(Class<?> type) {
        try {
            URL location = type.getProtectionDomain().getCodeSource().getLocation();
            return jarNames.getOrDefault(location.toString(), location.toString());
        } catch (RuntimeException e) {
            return "?";
        }
    }

    private void fail(String what, Throwable e) {
        failed++;
        debug("skipped " + what + ": " + e);
    }

    private void debug(String message) {
        if (verbose) {
            System.err.println(message);
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    private static String json(Set<String> values) {
        List<String> quoted = new ArrayList<>();
        for (String value : values) {
            quoted.add(json(value));
        }
        return "[" + String.join(",", quoted) + "]";
    }

    private static String json(String value) {
        StringBuilder s = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> s.append("\\\"");
                case '\\' -> s.append("\\\\");
                case '\n' -> s.append("\\n");
                case '\r' -> s.append("\\r");
                case '\t' -> s.append("\\t");
                default -> {
                    if (c < 0x20) {
                        s.append(String.format("\\u%04x", (int) c));
                    } else {
                        s.append(c);
                    }
                }
            }
        }
        return s.append('"').toString();
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            List<Path> all = new ArrayList<>(paths.toList());
            all.sort(Comparator.reverseOrder());
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        }
    }
}
