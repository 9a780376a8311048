// SPDX-License-Identifier: GPL-2.0-only
/*
 * Benchmark of the mediated device core
 *
 * Not part of the series: scripts/bench adds this file to a base tree and
 * to a tree with the fixes, so it only uses what the core has on the base.
 * A fake vendor driver registers parents on KUnit devices; devices are
 * created and removed by writing the real sysfs 'create' and 'remove' files
 * through an in-kernel mount of sysfs, as the KUnit suites do.
 *
 * What is measured: create and remove through sysfs (throughput),
 * mdev_unregister_parent() against the number of children and under a
 * create/remove storm, and mdev_register_parent() and
 * mdev_unregister_parent() of parents with one and with several types.
 *
 * Every measurement is printed as one line
 *
 *	BENCH <what> key=value ...
 *
 * with times in nanoseconds from ktime_get_ns().  No time is asserted; the
 * cases only fail when an operation fails, or when unregistration during a
 * create/remove storm does not finish within the bound.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mdev.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/slab.h>
#include <linux/uuid.h>

#define BENCH_PATH_LEN		256

static unsigned int count = 1000;
module_param(count, uint, 0444);
MODULE_PARM_DESC(count, "devices created and removed per throughput round");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "throughput rounds per boot");

static unsigned int warmup = 50;
module_param(warmup, uint, 0444);
MODULE_PARM_DESC(warmup, "devices created and removed before measuring");

static unsigned int reps = 3;
module_param(reps, uint, 0444);
MODULE_PARM_DESC(reps, "unregistrations per child count per boot");

static unsigned int storm_children = 100;
module_param(storm_children, uint, 0444);
MODULE_PARM_DESC(storm_children, "devices present when the storm starts");

static unsigned int storm_min_ops = 30;
module_param(storm_min_ops, uint, 0444);
MODULE_PARM_DESC(storm_min_ops, "storm operations before unregistration starts");

/* Three of these must fit in KUnit's timeout of a case (300 s) */
static unsigned int timeout_s = 60;
module_param(timeout_s, uint, 0444);
MODULE_PARM_DESC(timeout_s, "bound for unregistration during the storm (at most 90)");

static const unsigned int bench_children[] = { 0, 1, 100, 1000 };

/* Types of a parent in bench_types: registration and unregistration */
#define BENCH_MAX_TYPES		16
static const unsigned int bench_nr_types[] = { 1, BENCH_MAX_TYPES };

/**
 * struct bench_vendor - a parent of the fake vendor driver
 * @dev: the parent device, a KUnit device
 * @registered: mdev_unregister_parent() is still to be called
 * @register_ns: the time mdev_register_parent() took
 * @type_path: the first type's directory below the sysfs mount
 * @parent: the parent
 * @type: its types, @nr_types of them
 * @types: the array of types of @parent: pointers to @type
 * @names: the sysfs names of the types
 * @nr_types: the number of types
 */
struct bench_vendor {
	struct device *dev;
	bool registered;
	u64 register_ns;
	char type_path[BENCH_PATH_LEN];
	struct mdev_parent parent;
	struct mdev_type type[BENCH_MAX_TYPES];
	struct mdev_type *types[BENCH_MAX_TYPES];
	char names[BENCH_MAX_TYPES][16];
	unsigned int nr_types;
};

static struct vfsmount *bench_mnt;
static atomic_t bench_seq = ATOMIC_INIT(0);
static atomic_t bench_parents = ATOMIC_INIT(0);
/* A thread is stuck in the core: keep the mount and the driver */
static bool bench_stuck;

static int bench_probe(struct mdev_device *mdev)
{
	return 0;
}

static void bench_remove(struct mdev_device *mdev)
{
}

static struct mdev_driver bench_driver = {
	.device_api = "vfio-pci",
	.max_instances = 1 << 30,
	.probe = bench_probe,
	.remove = bench_remove,
	.driver = {
		.name = "vfio_mdev_bench",
		.owner = THIS_MODULE,
	},
};

static ssize_t bench_write(const char *path, const char *buf)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t ret;

	file = file_open_root_mnt(bench_mnt, path, O_WRONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = kernel_write(file, buf, strlen(buf), &pos);
	__fput_sync(file);
	return ret;
}

static u32 bench_new_tag(void)
{
	return atomic_inc_return(&bench_seq);
}

static void bench_uuid(char *buf, u32 tag)
{
	snprintf(buf, UUID_STRING_LEN + 1, "%08x-6d64-4000-8000-62656e636800",
		 tag);
}

/* Writes the UUID of @tag to 'create' of the type: 0 or a negative errno */
static int bench_create(struct bench_vendor *v, u32 tag)
{
	char path[BENCH_PATH_LEN];
	char uuid[UUID_STRING_LEN + 1];
	ssize_t ret;

	snprintf(path, sizeof(path), "%s/create", v->type_path);
	bench_uuid(uuid, tag);
	ret = bench_write(path, uuid);
	return ret < 0 ? ret : 0;
}

/* Writes "1" to 'remove' of the device of @tag: 0 or a negative errno */
static int bench_remove_dev(u32 tag)
{
	char path[BENCH_PATH_LEN];
	char uuid[UUID_STRING_LEN + 1];
	ssize_t ret;

	bench_uuid(uuid, tag);
	snprintf(path, sizeof(path), "bus/mdev/devices/%s/remove", uuid);
	ret = bench_write(path, "1");
	return ret < 0 ? ret : 0;
}

static int bench_count_child(struct device *dev, void *data)
{
	if (dev->bus == bench_driver.driver.bus)
		(*(unsigned int *)data)++;
	return 0;
}

static unsigned int bench_nr_children(struct bench_vendor *v)
{
	unsigned int n = 0;

	device_for_each_child(v->dev, &n, bench_count_child);
	return n;
}

/* KUnit action: unregisters the parent unless done, frees the vendor */
static void bench_vendor_release(void *data)
{
	struct bench_vendor *v = data;

	if (READ_ONCE(bench_stuck))
		return;
	if (v->registered)
		mdev_unregister_parent(&v->parent);
	kfree(v);
}

/* Times mdev_unregister_parent() of @v, in nanoseconds */
static u64 bench_unregister_parent(struct bench_vendor *v)
{
	u64 t0 = ktime_get_ns();

	mdev_unregister_parent(&v->parent);
	v->registered = false;
	return ktime_get_ns() - t0;
}

/*
 * A registered parent with @nr_types types on a new KUnit device, released
 * at the end of @test; mdev_register_parent() is timed
 */
static struct bench_vendor *bench_register_types(struct kunit *test,
						 unsigned int nr_types)
{
	struct bench_vendor *v;
	struct device *dev;
	char name[32];
	char *kpath;
	unsigned int i;
	u64 t0;
	int ret;

	KUNIT_ASSERT_GT(test, nr_types, 0);
	KUNIT_ASSERT_LE(test, nr_types, BENCH_MAX_TYPES);

	snprintf(name, sizeof(name), "mbench%d",
		 atomic_inc_return(&bench_parents));
	dev = kunit_device_register(test, name);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	v = kzalloc(sizeof(*v), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, v);
	/* After the device's action, so that it runs before the device goes */
	ret = kunit_add_action_or_reset(test, bench_vendor_release, v);
	KUNIT_ASSERT_EQ(test, ret, 0);

	v->dev = dev;
	v->nr_types = nr_types;
	for (i = 0; i < nr_types; i++) {
		snprintf(v->names[i], sizeof(v->names[i]), "bench%u", i);
		v->type[i].sysfs_name = v->names[i];
		v->types[i] = &v->type[i];
	}
	t0 = ktime_get_ns();
	ret = mdev_register_parent(&v->parent, v->dev, &bench_driver,
				   v->types, nr_types);
	v->register_ns = ktime_get_ns() - t0;
	KUNIT_ASSERT_EQ(test, ret, 0);
	v->registered = true;

	kpath = kobject_get_path(&v->type[0].kobj, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, kpath);
	/* kobject paths start with '/', paths below the mount do not */
	strscpy(v->type_path, kpath + 1, sizeof(v->type_path));
	kfree(kpath);
	return v;
}

/* A registered parent with one type */
static struct bench_vendor *bench_register(struct kunit *test)
{
	return bench_register_types(test, 1);
}

/* Creates @n devices: 0 or the first error */
static int bench_populate(struct bench_vendor *v, unsigned int n)
{
	unsigned int i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = bench_create(v, bench_new_tag());
		if (ret)
			return ret;
	}
	return 0;
}

/* Create and remove through sysfs, devices per second */
static void bench_throughput(struct kunit *test)
{
	struct bench_vendor *v = bench_register(test);
	u64 t0, t1, t2, create_ns, remove_ns, start;
	unsigned int r, i, errors;
	int ret;
	u32 tag;

	for (i = 0; i < warmup; i++) {
		tag = bench_new_tag();
		KUNIT_ASSERT_EQ(test, bench_create(v, tag), 0);
		KUNIT_ASSERT_EQ(test, bench_remove_dev(tag), 0);
	}

	for (r = 0; r < rounds; r++) {
		create_ns = 0;
		remove_ns = 0;
		errors = 0;
		start = ktime_get_ns();
		for (i = 0; i < count; i++) {
			tag = bench_new_tag();
			t0 = ktime_get_ns();
			ret = bench_create(v, tag);
			t1 = ktime_get_ns();
			if (!ret)
				ret = bench_remove_dev(tag);
			t2 = ktime_get_ns();
			create_ns += t1 - t0;
			remove_ns += t2 - t1;
			if (ret)
				errors++;
		}
		t2 = ktime_get_ns();
		kunit_info(test,
			   "BENCH throughput round=%u count=%u errors=%u total_ns=%llu create_ns=%llu remove_ns=%llu\n",
			   r, count, errors, t2 - start, create_ns, remove_ns);
		KUNIT_EXPECT_EQ(test, errors, 0);
	}
}

/* mdev_unregister_parent() with 0, 1, 100 and 1000 children */
static void bench_unregister(struct kunit *test)
{
	struct bench_vendor *v;
	unsigned int i, r;
	u64 ns;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < ARRAY_SIZE(bench_children); i++) {
			v = bench_register(test);
			KUNIT_ASSERT_EQ(test, bench_populate(v, bench_children[i]), 0);
			KUNIT_EXPECT_EQ(test, bench_nr_children(v),
					bench_children[i]);

			ns = bench_unregister_parent(v);

			kunit_info(test, "BENCH unregister children=%u rep=%u ns=%llu\n",
				   bench_children[i], r, ns);
			KUNIT_EXPECT_EQ(test, bench_nr_children(v), 0);
		}
	}
}

/*
 * mdev_register_parent() and mdev_unregister_parent() of a parent without
 * children, with one type and with BENCH_MAX_TYPES types: registration
 * adds the types (under unreg_sem with the fixes), unregistration removes
 * them (and waits for the release of each with the fixes)
 */
static void bench_types(struct kunit *test)
{
	struct bench_vendor *v;
	unsigned int i, r;
	u64 ns;

	for (r = 0; r < reps; r++) {
		for (i = 0; i < ARRAY_SIZE(bench_nr_types); i++) {
			v = bench_register_types(test, bench_nr_types[i]);
			ns = bench_unregister_parent(v);

			kunit_info(test, "BENCH types types=%u rep=%u register_ns=%llu unregister_ns=%llu\n",
				   bench_nr_types[i], r, v->register_ns, ns);
		}
	}
}

/*
 * Unregistration while another CPU creates and removes devices
 *
 * The storm thread, bound to another CPU than the unregistration when there
 * is one, writes without pause: each time round it removes one of the
 * devices present when it started, while any is left, then creates a new
 * device and removes it.  After @storm_min_ops writes, the unregistration
 * thread starts; it reads the storm's counts when it starts and when it
 * ends.  So the storm's removals race with the removals of unregistration,
 * and its creations with the start of unregistration.
 */

struct bench_storm {
	struct bench_vendor *v;
	u32 first_child;	/* the tag of the first device present */
	bool stop;
	atomic_t ops;		/* writes to 'create' and 'remove' done */
	atomic_t ok;		/* of which succeeded */
	struct completion warm;	/* @storm_min_ops writes done */
	struct completion storm_done;
	struct completion unreg_done;
	unsigned int present;	/* devices when unregistration started */
	unsigned int ops_before, ops_after, ok_before, ok_after;
	u64 unreg_ns;
};

static void bench_storm_count(struct bench_storm *s, int ret)
{
	if (!ret)
		atomic_inc(&s->ok);
	if (atomic_inc_return(&s->ops) == storm_min_ops)
		complete(&s->warm);
}

static int bench_storm_thread(void *data)
{
	struct bench_storm *s = data;
	unsigned int child = 0;
	int ret;
	u32 tag;

	while (!READ_ONCE(s->stop)) {
		if (child < storm_children)
			bench_storm_count(s, bench_remove_dev(s->first_child +
							      child++));
		tag = bench_new_tag();
		ret = bench_create(s->v, tag);
		bench_storm_count(s, ret);
		if (!ret)
			bench_storm_count(s, bench_remove_dev(tag));
		cond_resched();
	}
	kthread_complete_and_exit(&s->storm_done, 0);
}

static int bench_unreg_thread(void *data)
{
	struct bench_storm *s = data;

	s->present = bench_nr_children(s->v);
	s->ops_before = atomic_read(&s->ops);
	s->ok_before = atomic_read(&s->ok);
	s->unreg_ns = bench_unregister_parent(s->v);
	s->ops_after = atomic_read(&s->ops);
	s->ok_after = atomic_read(&s->ok);
	/* The storm is over when unregistration is */
	WRITE_ONCE(s->stop, true);
	kthread_complete_and_exit(&s->unreg_done, 0);
}

static struct task_struct *bench_thread_on(int (*fn)(void *), void *data,
					   unsigned int cpu, const char *name)
{
	struct task_struct *task;

	task = kthread_create(fn, data, "%s", name);
	if (IS_ERR(task))
		return task;
	kthread_bind(task, cpu);
	wake_up_process(task);
	return task;
}

/* Stops the storm thread; if it does not stop, leaves what it uses */
static void bench_storm_stop(struct kunit *test, struct bench_storm *s)
{
	WRITE_ONCE(s->stop, true);
	if (!wait_for_completion_timeout(&s->storm_done,
					 msecs_to_jiffies(timeout_s * MSEC_PER_SEC))) {
		WRITE_ONCE(bench_stuck, true);
		KUNIT_FAIL(test, "the storm did not stop within %u s", timeout_s);
	}
}

/* KUnit action: frees the storm unless a stuck thread may use it */
static void bench_storm_release(void *data)
{
	if (!READ_ONCE(bench_stuck))
		kfree(data);
}

static void bench_storm(struct kunit *test)
{
	unsigned long timeout = msecs_to_jiffies(timeout_s * MSEC_PER_SEC);
	unsigned int unreg_cpu, storm_cpu;
	struct task_struct *task;
	struct bench_storm *s;

	/* The three waits must fit in KUnit's timeout of a case */
	KUNIT_ASSERT_LE(test, timeout_s, 90);
	KUNIT_ASSERT_GT(test, storm_min_ops, 0);
	s = kzalloc(sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, bench_storm_release, s), 0);
	init_completion(&s->warm);
	init_completion(&s->storm_done);
	init_completion(&s->unreg_done);
	s->v = bench_register(test);
	/* Nothing else creates devices now: their tags follow each other */
	s->first_child = atomic_read(&bench_seq) + 1;
	KUNIT_ASSERT_EQ(test, bench_populate(s->v, storm_children), 0);

	unreg_cpu = cpumask_first(cpu_online_mask);
	storm_cpu = cpumask_next(unreg_cpu, cpu_online_mask);
	if (storm_cpu >= nr_cpu_ids)
		storm_cpu = unreg_cpu;

	task = bench_thread_on(bench_storm_thread, s, storm_cpu, "mdev_bench_storm");
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(task), "%pe", task);
	/* From here on, stop the storm before returning */
	if (!wait_for_completion_timeout(&s->warm, timeout)) {
		KUNIT_FAIL(test, "the storm did not make %u writes within %u s",
			   storm_min_ops, timeout_s);
		bench_storm_stop(test, s);
		return;
	}

	task = bench_thread_on(bench_unreg_thread, s, unreg_cpu, "mdev_bench_unreg");
	if (IS_ERR(task)) {
		KUNIT_FAIL(test, "no unregistration thread: %pe", task);
		bench_storm_stop(test, s);
		return;
	}
	if (!wait_for_completion_timeout(&s->unreg_done, timeout)) {
		/* It still uses the vendor and the storm: leave them */
		WRITE_ONCE(bench_stuck, true);
		KUNIT_FAIL(test,
			   "mdev_unregister_parent() did not finish within %u s under the storm (%d writes)",
			   timeout_s, atomic_read(&s->ops));
		bench_storm_stop(test, s);
		return;
	}
	bench_storm_stop(test, s);
	if (READ_ONCE(bench_stuck))
		return;

	kunit_info(test,
		   "BENCH storm cpus=%u storm_cpu=%u unreg_cpu=%u children=%u ns=%llu ops_before=%u ops_during=%u ok_during=%u ops_total=%d ok_total=%d\n",
		   num_online_cpus(), storm_cpu, unreg_cpu, s->present,
		   s->unreg_ns, s->ops_before, s->ops_after - s->ops_before,
		   s->ok_after - s->ok_before, atomic_read(&s->ops),
		   atomic_read(&s->ok));
	KUNIT_EXPECT_EQ(test, bench_nr_children(s->v), 0);
}

static int bench_suite_init(struct kunit_suite *suite)
{
	/* sysfs is built in: there is no module reference to put */
	struct file_system_type *sysfs = get_fs_type("sysfs");
	int ret;

	if (!sysfs)
		return -ENODEV;
	bench_mnt = kern_mount(sysfs);
	if (IS_ERR(bench_mnt))
		return PTR_ERR(bench_mnt);
	ret = mdev_register_driver(&bench_driver);
	if (ret)
		kern_unmount(bench_mnt);
	return ret;
}

static void bench_suite_exit(struct kunit_suite *suite)
{
	/* A stuck thread may still use them */
	if (READ_ONCE(bench_stuck))
		return;
	mdev_unregister_driver(&bench_driver);
	kern_unmount(bench_mnt);
}

static struct kunit_case bench_cases[] = {
	KUNIT_CASE_SLOW(bench_throughput),
	KUNIT_CASE_SLOW(bench_unregister),
	KUNIT_CASE_SLOW(bench_types),
	KUNIT_CASE_SLOW(bench_storm),
	{}
};

static struct kunit_suite bench_suite = {
	.name = "vfio_mdev_bench",
	.suite_init = bench_suite_init,
	.suite_exit = bench_suite_exit,
	.test_cases = bench_cases,
};

kunit_test_suite(bench_suite);

MODULE_DESCRIPTION("Benchmark of the mediated device core");
MODULE_LICENSE("GPL");
